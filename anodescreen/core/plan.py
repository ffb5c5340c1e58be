"""What a stage computes: calculation requests (by calc_key) and the quantities derived from them.

A calculation is identified by what decides its result: the input structure, the task,
the level of theory and the relaxation settings. Equal keys are the same calculation, so
a stored successful result is reused instead of recomputed, across campaigns. A plan is
pure and deterministic: the same inputs always give the same calculations and quantities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.core.host import Host
from anodescreen.db.schema import AdsorbateInfo, HostInfo, stable_hash
from anodescreen.engines.base import Engine
from anodescreen.errors import AnodescreenError
from anodescreen.structures import bulk_metal, isolated_atom

if TYPE_CHECKING:
    from anodescreen.core.property import RowKind

#: decimals of Cartesian coordinates (Å) that enter a calc_key
KEY_DECIMALS = 6


def _cartesian(structure: Structure) -> np.ndarray:
    """Cartesian coordinates summed term by term, as IEEE arithmetic defines them: a BLAS matrix
    product (``cart_coords``) may fuse multiply-adds, and the sign of a coordinate that is zero
    then depends on the CPU (-0.0 rounds to -0.0 and hashes apart from 0.0)."""
    frac, m = structure.frac_coords, structure.lattice.matrix
    return frac[:, :1] * m[0] + frac[:, 1:2] * m[1] + frac[:, 2:] * m[2]


def structure_fingerprint(structure: Structure) -> list:
    """Canonical, rounded description of a structure for hashing, the same on every machine."""
    magmoms = structure.site_properties.get("magmom", [0.0] * len(structure))
    return [
        np.round(structure.lattice.matrix, KEY_DECIMALS).tolist(),
        [s.species_string for s in structure],
        np.round(_cartesian(structure), KEY_DECIMALS).tolist(),
        [round(float(m), 3) for m in magmoms],
    ]


class CalcRequest(BaseModel):
    """A calculation a campaign needs: an engine task (relax, relax-cell, static) or a task a
    property runs on an engine (e.g. ``neb``, ``charges``; :mod:`anodescreen.properties`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    label: str
    task: str
    structure: Structure
    reference: bool = False
    final: Structure | None = Field(None, description="neb: the final endpoint (structure is the initial one)")
    settings: dict = Field(default_factory=dict, description="the property task's settings (NEB, SAC metal)")
    started_from: str | None = Field(None, description="calc_key of the screening relaxation whose minimum "
                                                       "``structure`` is (a funnel's warm start); not in the key, "
                                                       "which has the structure itself")

    def key(self, engine: Engine) -> str:
        """A reference state (bulk metal, atom, elemental ground state) is one per level of theory:
        its key leaves out the relaxation settings, so every campaign at that theory reuses it."""
        lot = engine.level_of_theory()
        settings = {} if self.reference else engine.settings_for(self.structure, self.task)
        payload = [structure_fingerprint(self.structure), self.task, lot.key, settings]
        if self.final is not None or self.settings:
            payload += [structure_fingerprint(self.final) if self.final else None, self.settings]
        return stable_hash(payload)


@dataclass(frozen=True)
class Quantity:
    """A number to derive from stored calculations: which ones, and as what (``kind``: a row kind
    of :mod:`anodescreen.properties`)."""

    kind: str
    host: HostInfo
    adsorbate: AdsorbateInfo
    site: str | None
    region: str
    complex_key: str
    host_key: str
    reference_keys: dict[str, str]
    complex_label: str

    def input_keys(self) -> list[str]:
        """Every calculation the quantity is derived from."""
        return [self.complex_key, self.host_key, *self.reference_keys.values()]

    def as_data(self) -> dict:
        """JSON-able form (job arguments travel through FireWorks and jobflow-remote)."""
        return {"kind": self.kind, "host": self.host.model_dump(), "adsorbate": self.adsorbate.model_dump(),
                "site": self.site, "region": self.region, "complex_key": self.complex_key,
                "host_key": self.host_key, "reference_keys": dict(self.reference_keys),
                "complex_label": self.complex_label}

    @classmethod
    def from_data(cls, d: dict) -> Quantity:
        return cls(**{**d, "host": HostInfo(**d["host"]), "adsorbate": AdsorbateInfo(**d["adsorbate"])})


@dataclass
class Plan:
    """Calculations (by calc_key) and the quantities derived from them.

    ``spec`` is the campaign spec (``None`` for a Maker's plan, outside any campaign);
    ``hosts`` the hosts whose complexes were planned, as (host, adsorbate element, host calc_key).
    """

    spec: Any
    engine: Engine
    calcs: dict[str, CalcRequest] = field(default_factory=dict)
    quantities: list[Quantity] = field(default_factory=list)
    hosts: list[tuple[Host, str, str]] = field(default_factory=list)

    def add(self, label: str, task: str, structure: Structure, reference: bool = False, **extra) -> str:
        request = CalcRequest(label=label, task=task, structure=structure, reference=reference, **extra)
        key = request.key(self.engine)
        self.calcs.setdefault(key, request)
        return key


#: the alkali chemical-potential references
ALKALI_REFERENCES = ("bulk", "atom")


def add_alkali_references(plan: Plan, metal: str, references: list[str]) -> dict[str, str]:
    """The alkali's chemical-potential references (``bulk``: relaxed bcc/fcc/hcp metal; ``atom``: isolated)."""
    unknown = sorted(set(references) - set(ALKALI_REFERENCES))
    if unknown:
        raise AnodescreenError(f"unknown alkali reference(s) {', '.join(unknown)}: use bulk and/or atom", "references")
    refs = {}
    if "bulk" in references:
        bulk = bulk_metal(metal)
        refs["bulk"] = plan.add(bulk.properties["label"], "relax-cell", bulk, reference=True)
    if "atom" in references:
        atom = isolated_atom(metal)
        refs["atom"] = plan.add(atom.properties["label"], "static", atom, reference=True)
    return refs


def add_host(plan: Plan, host: Host, metal: str, refs: dict[str, str], kinds: list[RowKind],
             complexes: list[tuple[str, Structure]], keep: set[str] | None = None, task: str = "relax",
             started_from: dict[str, str] | None = None) -> None:
    """The host's relaxation, each complex's (``keep``: only these sites; an empty set: not the host
    either) and a quantity per complex and row kind; ``refs`` (the alkali references) go to the kinds
    that take the alkali's chemical potential. ``task`` ``static``: single points instead of relaxations;
    ``started_from``: structure label → calc_key of the screening relaxation its structure comes from."""
    if keep is not None and not keep:
        return
    starts = started_from or {}
    host_key = plan.add(host.info.label, task, host.structure, started_from=starts.get(host.info.label))
    plan.hosts.append((host, metal, host_key))
    for label, structure in complexes:
        if keep is not None and label not in keep:
            continue
        name = structure.properties["label"]
        key = plan.add(name, task, structure, started_from=starts.get(name))
        count = int(structure.composition[metal]) - int(host.structure.composition[metal])
        for kind in kinds:
            plan.quantities.append(Quantity(
                kind=kind.name, host=host.info, adsorbate=AdsorbateInfo(element=metal, count=count),
                site=label, region=host.region, complex_key=key, host_key=host_key,
                reference_keys=refs if kind.reference == "alkali" else {},
                complex_label=structure.properties["label"],
            ))
