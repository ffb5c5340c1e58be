"""What every engine shares: the level of theory it defines, the result it returns, an ASE adaptor."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Protocol

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.analysis.geometry import slab_heights, vacuum_axes
from anodescreen.structures.data import has_moments
from anodescreen.theory import LevelOfTheory

#: the form of a level of theory's total energies: raw GGA (a DFT code; SevenNet-0), or Materials
#: Project GGA with the MP2020 anion corrections (CHGNet, trained on them)
EnergyForm = Literal["GGA", "MP2020"]

#: relax: positions only (2D hosts with vacuum); relax-cell: positions and cell (bulk);
#: static: single point.
Task = Literal["relax", "relax-cell", "static"]


def spin_polarized(spin: Literal["auto", "on", "off"]) -> bool | Literal["auto"]:
    """An engine's ``spin`` setting as recorded in its level of theory."""
    return "auto" if spin == "auto" else spin == "on"


#: eV/Å per atom of a layer: ≈ 0.01 Å in a graphene gallery (0.055 eV/Å² per carbon, issue #21)
LAYER_FMAX = 0.0005


def runs_polarized(spin: Literal["auto", "on", "off"], structure: Structure) -> bool:
    """Whether ``structure`` runs spin-polarised: ``on``, or ``auto`` and it carries initial moments."""
    return spin == "on" or (spin == "auto" and has_moments(structure))


class EngineResult(BaseModel):
    """What an engine returns for one calculation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    energy: float = Field(description="total energy (eV)")
    structure: Structure
    converged: bool
    n_steps: int
    max_force: float | None = Field(None, description="largest residual force (eV/Å)")
    forces: list[list[float]] | None = Field(None, description="final forces (eV/Å), site order")
    energies: list[float] = Field(default_factory=list, description="energy per ionic step (eV)")
    attempts: list[str] = Field(default_factory=list, description="what each failed attempt hit and the fix")
    files: dict[str, str] = Field(default_factory=dict, description="role → output file (e.g. density)")
    valence: dict[str, float] = Field(default_factory=dict,
                                      description="element → Z_val of the pseudopotential the run used (with a density)")
    code_version: str | None = Field(None, description="version the output reports, when known only then")
    magnetic_moments: list[float] | None = Field(None, description="spin-polarised runs: final moment of each "
                                                                   "site (μB; the code's atomic projection)")
    total_magnetization: float | None = Field(None, description="spin-polarised runs: total moment of the cell (μB)")
    spin_states: list[dict] = Field(default_factory=list, description="each initial metal moment tried "
                                                                      "(engines.spin); this is the lowest")


class NebRun(BaseModel):
    """What a code's own NEB returns for the intermediate images (the endpoints stay fixed)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    structures: list[Structure]
    energies: list[float] = Field(description="energy of each intermediate image (eV)")
    tangent_forces: list[float] | None = Field(None, description="F·τ̂ at each intermediate image (eV/Å)")
    force_calls: int
    converged: bool
    optimizer: str = Field(description="the code's NEB and optimiser, e.g. VASP + VTST, IOPT 3 (FIRE)")
    code_version: str | None = Field(None, description="version the output reports")


class EngineError(RuntimeError):
    """A calculation that failed after every retry; ``attempts`` says what was tried."""

    def __init__(self, reason: str, attempts: list[str] | None = None):
        super().__init__(reason)
        self.attempts = attempts or []


def is_polar_slab(structure: Structure, tol: float = 0.1) -> bool:
    """Whether a structure with vacuum along c lacks a mirror plane parallel to the surface.

    Each element's heights about the slab's mid-height must map onto themselves under
    z → −z within ``tol`` Å; an adatom on one face breaks that and needs a dipole correction.
    """
    if not vacuum_axes(structure)[2]:
        return False
    z = slab_heights(structure)
    mid = (z.max() + z.min()) / 2
    for element in structure.composition:
        heights = np.sort(z[[s.specie == element for s in structure]] - mid)
        if not np.allclose(heights, np.sort(-heights), atol=tol):
            return True
    return False


def kpoint_mesh(structure: Structure, spacing: float) -> tuple[int, int, int]:
    """Monkhorst–Pack mesh with ``n_i = ceil(|b_i| / spacing)`` (``|b_i|`` with 2π, Å⁻¹).

    Directions across a vacuum gap (slabs, sheets, molecules in a box) get one k-point.
    """
    recip = structure.lattice.reciprocal_lattice.abc
    vacuum = vacuum_axes(structure)
    return tuple(1 if vac else max(1, int(np.ceil(b / spacing - 1e-9))) for b, vac in zip(recip, vacuum))


class Engine(Protocol):
    """An engine runs one task on one structure at its level of theory.

    ``name`` is the spec's ``engine.name``; ``has_density``: its statics can write a charge
    density (Bader, Δρ); ``native_neb``: it runs NEB in its own code (``neb(...)``), else NEB
    runs through ASE on ``calculator(workdir)``. ``with_cores(n)``: the same engine sized to
    ``n`` cores (a worker's share), which never changes its results.
    """

    name: str
    has_density: ClassVar[bool]
    native_neb: ClassVar[bool]

    def level_of_theory(self) -> LevelOfTheory: ...

    def run(self, structure: Structure, task: Task, workdir: Path) -> EngineResult: ...

    @property
    def relax_settings(self) -> dict: ...

    def settings_for(self, structure: Structure, task: str) -> dict: ...

    @property
    def energy_form(self) -> EnergyForm: ...

    def calculator(self, workdir: Path) -> Calculator: ...

    def with_cores(self, cores: int) -> Engine: ...


class EngineModel(BaseModel):
    """Base of the engines' settings models: frozen, strict, no density, ASE's NEB, one engine at any
    core count, and an ASE calculator whose every call is one static run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    has_density: ClassVar[bool] = False
    native_neb: ClassVar[bool] = False

    def settings_for(self, structure: Structure, task: str) -> dict:
        """The relaxation settings that decide ``task`` on ``structure`` (what its calc key holds)."""
        return self.relax_settings

    @property
    def energy_form(self) -> EnergyForm:
        """What its formation energies compare with: a DFT code's are raw GGA."""
        return "GGA"

    def calculator(self, workdir: Path) -> Calculator:
        """An ASE calculator: every call is a static run of this engine in ``workdir``."""
        return EngineCalculator(self, workdir)

    def with_cores(self, cores: int):
        """This engine sized to ``cores``; it takes its parallelism elsewhere (torch threads, its command)."""
        return self


class EngineCalculator(Calculator):
    """ASE calculator whose every call is a static run of an engine (for NEB on DFT engines).

    Call ``n`` runs in ``workdir/call<n>``; a failed static raises :class:`EngineError`.
    """

    implemented_properties = ["energy", "forces"]

    def __init__(self, engine: Engine, workdir: Path):
        super().__init__()
        self.engine = engine
        self.workdir = Path(workdir)
        self.calls = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        from pymatgen.io.ase import AseAtomsAdaptor

        self.calls += 1
        result = self.engine.run(AseAtomsAdaptor.get_structure(self.atoms), "static",
                                 self.workdir / f"call{self.calls}")
        if result.forces is None:
            raise EngineError(f"{type(self.engine).__name__} returned no forces")
        self.results = {"energy": result.energy, "forces": np.array(result.forces)}
