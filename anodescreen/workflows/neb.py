"""Diffusion barriers: relaxed endpoints, interpolated images, climbing-image NEB (ASE).

Any engine runs it through its ASE calculator: the ML potential directly (pre-screen),
CP2K and VASP as one static per image and step (:class:`~anodescreen.engines.base.
EngineCalculator`). Images are interpolated linearly or by IDPP with minimum-image
displacements, so an endpoint wrapped across the cell is no problem. The result keeps
every image, the profile, both barriers (DOMAIN.md §2) and the number of force calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.mep import NEB
from ase.optimize import FIRE
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from anodescreen.analysis.neb import Barrier, neb_barrier, path_coordinates
from anodescreen.errors import AnodescreenError


class NebSettings(BaseModel):
    """How a path is sampled and converged; stored with every barrier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    images: int = Field(5, ge=1, description="intermediate images")
    interpolation: Literal["idpp", "linear"] = "idpp"
    climb: bool = True
    spring: float = Field(5.0, gt=0, description="spring constant (eV/Å²)")
    fmax: float = Field(0.05, gt=0, description="NEB force convergence (eV/Å)")
    max_steps: int = Field(300, gt=0)

    def method(self) -> str:
        kind = "climbing-image NEB" if self.climb else "NEB"
        return f"{kind}, {self.images} images, {self.interpolation} interpolation, improved tangent, FIRE"


@dataclass
class NebOutcome:
    barrier: Barrier
    images: list[Structure]
    energies: list[float]  # eV, absolute
    force_calls: int
    converged: bool
    method: str


class _Counting(Calculator):
    """Wraps a calculator and counts the energy/force evaluations made through it."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, inner: Calculator):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        probe = self.atoms.copy()
        probe.calc = self.inner
        self.results = {"energy": float(probe.get_potential_energy()), "forces": np.array(probe.get_forces())}


def run_neb(initial: Structure, final: Structure, calculator: Calculator,
            settings: NebSettings | None = None) -> NebOutcome:
    """Climbing-image NEB between two relaxed endpoints with ``calculator``."""
    settings = settings or NebSettings()
    if [s.species_string for s in initial] != [s.species_string for s in final]:
        raise AnodescreenError("NEB endpoints must hold the same atoms in the same order", "neb")
    adaptor = AseAtomsAdaptor()
    counter = _Counting(calculator)
    first, last = adaptor.get_atoms(initial), adaptor.get_atoms(final)
    images = [first] + [first.copy() for _ in range(settings.images)] + [last]
    for image in images:
        image.calc = counter
    neb = NEB(images, k=settings.spring, climb=settings.climb, method="improvedtangent",
              allow_shared_calculator=True)
    neb.interpolate(method=settings.interpolation, mic=True)
    converged = bool(FIRE(neb, logfile=None).run(fmax=settings.fmax, steps=settings.max_steps))
    energies = [float(im.get_potential_energy()) for im in images]
    forces = [im.get_forces() for im in images]
    s, tangents = path_coordinates([im.positions for im in images], first.cell.array)
    slopes = [-float(np.sum(f * t)) for f, t in zip(forces, tangents)]
    return NebOutcome(neb_barrier(energies, s, slopes), [adaptor.get_structure(im) for im in images], energies,
                      counter.calls, converged, settings.method())


def relaxed_endpoints(engine, initial: Structure, final: Structure, workdir: Path) -> tuple[Structure, Structure]:
    """Both endpoints relaxed with ``engine`` (positions only)."""
    out = []
    for name, structure in (("initial", initial), ("final", final)):
        result = engine.run(structure, "relax", Path(workdir) / f"endpoint-{name}")
        if not result.converged:
            raise AnodescreenError(f"{name} endpoint did not relax (max force {result.max_force})", "neb")
        out.append(result.structure)
    return out[0], out[1]
