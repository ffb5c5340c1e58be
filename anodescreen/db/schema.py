"""The results schema shared by every workflow: one row per computed quantity.

A row carries its value, the definition it follows, the reference states it used, the
level of theory, the final structure and the calculations (with job ids) it came from.
Its ``row_id`` is a hash of what the number *is* (kind, host, adsorbate, site, reference,
level of theory), so recomputing or re-importing the same quantity can never add a row.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, UTC
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from anodescreen.theory import LevelOfTheory

#: a pymatgen Structure as its dict; jobflow decodes stored outputs (resolving a reference) back into
#: Structure objects, so those are accepted too
StructureDict = Annotated[dict, BeforeValidator(lambda value: value.as_dict() if hasattr(value, "as_dict") else value)]
#: host family: one of anodescreen.hosts.FAMILIES, or compound (formation energies), custom (a host
#: structure given to a Maker, anodescreen.workflows.makers)
Family = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
#: row kind: one of anodescreen.properties.KINDS (its unit and definition are stated there)
Kind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
#: bulk / atom: the alkali's chemical potential; elements: every element's ground state (formation);
#: none: a quantity without a chemical potential (barrier, charge, distortion)
ReferenceName = Literal["bulk", "atom", "elements", "none"]

def now() -> datetime:
    """Timezone-aware UTC timestamp."""
    return datetime.now(UTC)


def stable_hash(payload: object, length: int = 16) -> str:
    """Hex digest of the canonical JSON of ``payload``."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class HostInfo(BaseModel):
    """Which host a quantity belongs to."""

    model_config = ConfigDict(extra="forbid")

    family: Family
    label: str = Field(description="e.g. Fe-N4@G(5x5), BLG-AB(r3xr3)")
    stacking: str | None = None
    phase: str | None = None
    metal: str | None = Field(None, description="single-atom metal of a SAC host")
    motif: str | None = None
    supercell: str | None = None


class AdsorbateInfo(BaseModel):
    """The alkali species and how many atoms of it (for a compound: its cation, per cell)."""

    model_config = ConfigDict(extra="forbid")

    element: str
    count: int = 1


class ReferenceState(BaseModel):
    """A chemical potential used in an energy difference."""

    model_config = ConfigDict(extra="forbid")

    name: ReferenceName
    label: str = Field(description="structure key, e.g. Li-bcc, Li-atom")
    element: str
    energy_per_atom: float
    calc_key: str


class CalcDoc(BaseModel):
    """The stored record of one calculation, successful or failed."""

    calc_key: str
    label: str
    task: str
    reference: bool = Field(False, description="a reference state, shared by every campaign at this theory")
    state: Literal["successful", "failed"]
    reason: str | None = None
    energy: float | None = None
    n_sites: int
    formula: str
    converged: bool = False
    n_steps: int = 0
    max_force: float | None = None
    stopped_on: Literal["fmax", "max_steps"] | None = Field(
        None, description="relaxations: what ended it (the force criterion, or the step limit: not converged)")
    layer_forces: list[float] = Field(default_factory=list, description="relaxations of slabs: net force along "
                                      "the normal on each atomic layer, bottom to top (eV/Å)")
    magnetic_moments: list[float] | None = Field(None, description="spin-polarised runs: final moment of each site "
                                                                   "(μB)")
    total_magnetization: float | None = Field(None, description="spin-polarised runs: total moment (μB)")
    spin_states: list[dict] = Field(default_factory=list, description="magnetic runs: each initial moment of the "
                                    "metal tried, its energy and final moment; the lowest is this result")
    structure: StructureDict | None = Field(None, description="final structure (pymatgen dict)")
    input_structure: StructureDict
    started_from: str | None = Field(None, description="calc_key of the screening relaxation whose minimum the "
                                                       "input structure is (a funnel's warm start)")
    level_of_theory: LevelOfTheory
    lot_key: str
    relax_settings: dict = Field(default_factory=dict)
    energies: list[float] = Field(default_factory=list)
    attempts: list[str] = Field(default_factory=list, description="failed attempts and the fix tried next")
    files: dict[str, str] = Field(default_factory=dict, description="role → output file path")
    details: dict = Field(default_factory=dict, description="neb: barrier, profile, images; charges: Bader "
                                                             "charges and Δρ(z)")
    elapsed_s: float | None = None
    completed_at: datetime = Field(default_factory=now)


class ResultRow(BaseModel):
    """One computed quantity with everything needed to interpret and rebuild it."""

    model_config = ConfigDict(extra="forbid")

    row_id: str
    kind: Kind
    value: float
    unit: str = "eV"
    definition: str
    host: HostInfo
    adsorbate: AdsorbateInfo
    site: str | None = Field(None, description="initial site label")
    final_site: str | None = Field(None, description="site the adsorbate relaxed to")
    reference: ReferenceName
    reference_states: list[ReferenceState]
    level_of_theory: LevelOfTheory
    lot_key: str
    is_dft: bool
    structure_label: str
    structure: StructureDict = Field(description="final structure of the complex (pymatgen dict)")
    details: dict = Field(default_factory=dict, description="kind-specific data: NEB profile and images, "
                                                              "per-atom charges, Δρ(z) curve, SAC geometry")
    calc_keys: dict[str, str] = Field(description="role → calc_key of each input calculation")
    job_ids: dict[str, str] = Field(description="role → jobflow job uuid")
    single_point: bool = Field(False, description="a DFT single point on the MLIP-relaxed geometries (funnel "
                                                  "verify single_point_only), not a relaxed value")
    started_from: str | None = Field(None, description="calc_key of the screening relaxation the complex's "
                                                       "calculation started from (a funnel's warm start)")
    campaigns: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)

    @staticmethod
    def make_id(kind: str, host_label: str, element: str, count: int, site: str | None,
                reference: str, lot_key: str, single_point: bool = False) -> str:
        """Identity of a quantity: equal inputs give the same id on every machine; a single point on MLIP
        geometries is a different quantity from the relaxed value."""
        return stable_hash([kind, host_label, element, count, site, reference, lot_key]
                           + (["single point on MLIP geometry"] if single_point else []))


#: Fields a user may filter on, mapped to their stored paths.
QUERY_FIELDS = {
    "family": "host.family",
    "host": "host.label",
    "metal": "host.metal",
    "motif": "host.motif",
    "stacking": "host.stacking",
    "phase": "host.phase",
    "adsorbate": "adsorbate.element",
    "count": "adsorbate.count",
    "site": "site",
    "final_site": "final_site",
    "kind": "kind",
    "reference": "reference",
    "engine": "level_of_theory.engine",
    "method": "level_of_theory.method",
    "vdw": "level_of_theory.vdw",
    "is_dft": "is_dft",
    "single_point": "single_point",
    "lot_key": "lot_key",
    "campaign": "campaigns",
}
