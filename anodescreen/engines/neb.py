"""Diffusion barriers: relaxed endpoints, interpolated images, climbing-image NEB.

The ML potential and CP2K run it through ASE (CP2K as one static per image and step,
:class:`~anodescreen.engines.base.EngineCalculator`); VASP runs its own (VTST) NEB. Images
are interpolated linearly or by IDPP with minimum-image displacements, so an endpoint
wrapped across the cell is no problem. The endpoints are relaxed minima: their energies
come from their relaxations and are never recomputed. The result keeps every image, the
profile, both barriers (DOMAIN.md §2) and the number of force calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.singlepoint import SinglePointCalculator
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

    def method(self, optimizer: str = "improved tangent, FIRE (ASE)") -> str:
        kind = "climbing-image NEB" if self.climb else "NEB"
        return f"{kind}, {self.images} images, {self.interpolation} interpolation, {optimizer}"


@dataclass
class NebOutcome:
    barrier: Barrier
    images: list[Structure]
    energies: list[float]  # eV, absolute
    force_calls: int
    converged: bool
    method: str
    code_version: str | None = None  # when the code's own NEB reports it


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


def interpolate(initial: Structure, final: Structure, settings: NebSettings) -> list[Atoms]:
    """The band: ``initial``, ``settings.images`` interpolated images, ``final`` (minimum image)."""
    if [s.species_string for s in initial] != [s.species_string for s in final]:
        raise AnodescreenError("NEB endpoints must hold the same atoms in the same order", "neb")
    adaptor = AseAtomsAdaptor()
    first, last = adaptor.get_atoms(initial), adaptor.get_atoms(final)
    images = [first] + [first.copy() for _ in range(settings.images)] + [last]
    NEB(images).interpolate(method=settings.interpolation, mic=True)
    return images


def run_neb(initial: Structure, final: Structure, calculator: Calculator, settings: NebSettings | None = None,
            endpoint_energies: tuple[float, float] | None = None) -> NebOutcome:
    """Climbing-image NEB between two relaxed endpoints with ``calculator`` (ASE).

    ``endpoint_energies``: from the endpoints' relaxations; without them each endpoint is
    evaluated once. Either way the endpoints are fixed minima (zero force), never recomputed.
    """
    settings = settings or NebSettings()
    counter = _Counting(calculator)
    images = interpolate(initial, final, settings)
    for end, energy in zip((images[0], images[-1]), endpoint_energies or (None, None)):
        if energy is None:
            probe = end.copy()
            probe.calc = counter
            energy = probe.get_potential_energy()
        end.calc = SinglePointCalculator(end, energy=float(energy), forces=np.zeros((len(end), 3)))
    for image in images[1:-1]:
        image.calc = counter
    neb = NEB(images, k=settings.spring, climb=settings.climb, method="improvedtangent",
              allow_shared_calculator=True)
    converged = bool(FIRE(neb, logfile=None).run(fmax=settings.fmax, steps=settings.max_steps))
    energies = [float(im.get_potential_energy()) for im in images]
    s, tangents = path_coordinates([im.positions for im in images], images[0].cell.array)
    slopes = [-float(np.sum(im.get_forces() * t)) for im, t in zip(images, tangents)]
    adaptor = AseAtomsAdaptor()
    return NebOutcome(neb_barrier(energies, s, slopes), [adaptor.get_structure(im) for im in images], energies,
                      counter.calls, converged, settings.method())


def run_code_neb(engine, initial: Structure, final: Structure, endpoint_energies: tuple[float, float],
                 settings: NebSettings, workdir: Path) -> NebOutcome:
    """NEB by the engine's own code (``engine.neb``, e.g. VASP/VTST) on the interpolated band."""
    band = [Structure(initial.lattice, initial.species, image.positions, coords_are_cartesian=True,
                      site_properties=initial.site_properties) for image in interpolate(initial, final, settings)]
    run = engine.neb(band, settings.climb, settings.spring, settings.fmax, settings.max_steps, workdir)
    structures = [initial, *run.structures, final]
    energies = [float(endpoint_energies[0]), *run.energies, float(endpoint_energies[1])]
    s, _ = path_coordinates([st.cart_coords for st in structures], initial.lattice.matrix)
    slopes = None if run.tangent_forces is None else [0.0, *(-f for f in run.tangent_forces), 0.0]
    return NebOutcome(neb_barrier(energies, s, slopes), structures, energies, run.force_calls, run.converged,
                      settings.method(run.optimizer), run.code_version)


def engine_neb(engine, initial: Structure, final: Structure, endpoint_energies: tuple[float, float],
               settings: NebSettings, workdir: Path) -> NebOutcome:
    """NEB on ``engine``: its own code's NEB when it has one (VASP), else ASE on its calculator."""
    if engine.native_neb:
        return run_code_neb(engine, initial, final, endpoint_energies, settings, Path(workdir))
    return run_neb(initial, final, engine.calculator(Path(workdir)), settings, endpoint_energies)


def relaxed_endpoints(engine, initial: Structure, final: Structure,
                      workdir: Path) -> tuple[tuple[Structure, Structure], tuple[float, float]]:
    """Both endpoints relaxed with ``engine`` (positions only) and their energies."""
    out = []
    for name, structure in (("initial", initial), ("final", final)):
        result = engine.run(structure, "relax", Path(workdir) / f"endpoint-{name}")
        if not result.converged:
            raise AnodescreenError(f"{name} endpoint did not relax (max force {result.max_force})", "neb")
        out.append(result)
    return (out[0].structure, out[1].structure), (out[0].energy, out[1].energy)
