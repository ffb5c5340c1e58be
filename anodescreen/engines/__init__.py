"""Engines turn a structure and a task into an energy at a stated level of theory.

``MLIPEngine`` (atomate2 force fields, pre-screen only) is available; CP2K and VASP
engines plug into the same :class:`~anodescreen.engines.base.Engine` protocol.
"""

from anodescreen.engines.base import Engine, EngineResult, LevelOfTheory, Task
from anodescreen.engines.mlip import MLIPEngine

__all__ = ["Engine", "EngineResult", "LevelOfTheory", "MLIPEngine", "Task"]
