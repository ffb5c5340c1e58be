"""The level of theory: everything that decides an energy besides the structure.

It is data shared by engines (which define it), stored calculations and result rows
(which carry it), so it depends on no engine module.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LevelOfTheory(BaseModel):
    """Everything that decides an energy besides the structure.

    Two calculations whose ``key`` differs must never be combined in one energy
    difference. The code version is recorded but not part of the key.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: Literal["mlip", "cp2k", "vasp", "gpaw"]
    code: str
    code_version: str | None = None
    method: str = Field(description="functional (PBE) or potential (CHGNet-0.3.0)")
    vdw: str | None = None
    hubbard_u: dict[str, float] = Field(default_factory=dict)
    basis: str | None = None
    cutoff: str | None = None
    kpoints: str | None = None
    spin_polarized: bool | Literal["auto"] = Field(
        False, description="auto: spin-polarized when the structure carries magnetic moments")
    smearing: str | None = None
    dipole_correction: Literal["auto", "on", "off"] | None = Field(
        None, description="slab dipole correction along z; auto: when the slab is polar (is_polar_slab)")

    @property
    def is_dft(self) -> bool:
        """MLIP energies rank candidates; they are never DFT values."""
        return self.engine != "mlip"

    @property
    def key(self) -> str:
        """Stable 16-hex-digit hash of the fields that define the theory."""
        # None fields added after keys were first stored stay out, so old keys remain valid
        payload = self.model_dump(exclude={"code_version"} | ({"dipole_correction"} if self.dipole_correction
                                                              is None else set()))
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def summary(self) -> str:
        """Short human-readable form, e.g. ``mlip CHGNet-0.3.0`` or ``cp2k PBE+D3``."""
        vdw = f"+{self.vdw}" if self.vdw else ""
        return f"{self.engine} {self.method}{vdw}"
