"""What every engine shares: the level of theory it defines and the result it returns."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

if TYPE_CHECKING:
    from pathlib import Path

#: relax: positions only (2D hosts with vacuum); relax-cell: positions and cell (bulk);
#: static: single point.
Task = Literal["relax", "relax-cell", "static"]


class LevelOfTheory(BaseModel):
    """Everything that decides an energy besides the structure.

    Two calculations whose ``key`` differs must never be combined in one energy
    difference. The code version is recorded but not part of the key.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: Literal["mlip", "cp2k", "vasp"]
    code: str
    code_version: str | None = None
    method: str = Field(description="functional (PBE) or potential (CHGNet-0.3.0)")
    vdw: str | None = None
    hubbard_u: dict[str, float] = Field(default_factory=dict)
    basis: str | None = None
    cutoff: str | None = None
    kpoints: str | None = None
    spin_polarized: bool = False
    smearing: str | None = None

    @property
    def is_dft(self) -> bool:
        """MLIP energies rank candidates; they are never DFT values."""
        return self.engine != "mlip"

    @property
    def key(self) -> str:
        """Stable 16-hex-digit hash of the fields that define the theory."""
        payload = self.model_dump(exclude={"code_version"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def summary(self) -> str:
        """Short human-readable form, e.g. ``mlip CHGNet-0.3.0`` or ``cp2k PBE+D3``."""
        vdw = f"+{self.vdw}" if self.vdw else ""
        return f"{self.engine} {self.method}{vdw}"


class EngineResult(BaseModel):
    """What an engine returns for one calculation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    energy: float = Field(description="total energy (eV)")
    structure: Structure
    converged: bool
    n_steps: int
    max_force: float | None = Field(None, description="largest residual force (eV/Å)")
    energies: list[float] = Field(default_factory=list, description="energy per ionic step (eV)")


class Engine(Protocol):
    """An engine runs one task on one structure at its level of theory."""

    def level_of_theory(self) -> LevelOfTheory: ...

    def run(self, structure: Structure, task: Task, workdir: Path) -> EngineResult: ...

    @property
    def relax_settings(self) -> dict: ...
