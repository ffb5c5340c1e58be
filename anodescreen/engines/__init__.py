"""Engines turn a structure and a task into an energy at a stated level of theory.

``MLIPEngine`` (atomate2 force fields, pre-screen only), ``Cp2kEngine`` (real CP2K runs),
``GpawEngine`` (real GPAW plane-wave PAW runs) and ``VaspEngine`` (atomate2 VASP input sets) share the
:class:`~anodescreen.engines.base.Engine` protocol; a spec picks one by ``name`` (a new engine:
one module and one more member of :data:`AnyEngine`). :mod:`.neb` and :mod:`.charges` run NEB
and charge analyses on any of them.
"""

from typing import Annotated

from pydantic import Field, TypeAdapter

from anodescreen.engines.base import Engine, EngineError, EngineResult, LevelOfTheory, Task
from anodescreen.engines.cp2k import Cp2kEngine
from anodescreen.engines.gpaw import GpawEngine
from anodescreen.engines.mlip import MLIPEngine
from anodescreen.engines.vasp import VaspEngine

AnyEngine = Annotated[MLIPEngine | Cp2kEngine | GpawEngine | VaspEngine, Field(discriminator="name")]


def engine_from_fields(fields: dict) -> Engine:
    """Rebuild an engine from its ``model_dump()`` (e.g. in a worker process)."""
    return TypeAdapter(AnyEngine).validate_python(fields)


__all__ = ["AnyEngine", "Cp2kEngine", "Engine", "EngineError", "EngineResult", "GpawEngine", "LevelOfTheory",
           "MLIPEngine", "Task", "VaspEngine", "engine_from_fields"]
