"""Distortion of a single-atom site under alkali loading: the largest change of an M–X bond length
between the relaxed pocket without and with the alkali (Å; angles and the metal's height in details).

Planned on every site complex of a SAC host (one atom), and with ``sac_loading`` 2+ after the
relaxations: n atoms on n copies of one site around the metal, at least 0.8 × the bulk
metal's nearest-neighbour distance apart (the most favourable computed single-atom site that
allows it, else the site nearest the metal that does); one row per n.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.analysis.sac import sac_distortion
from anodescreen.core.host import Host
from anodescreen.core.plan import Quantity
from anodescreen.core.property import Calcs, Followup, Property, RowKind
from anodescreen.core.rows import unreferenced_row
from anodescreen.db.schema import AdsorbateInfo, ResultRow
from anodescreen.errors import AnodescreenError
from anodescreen.structures.data import nearest_neighbour_distance
from anodescreen.structures.sites import add_adsorbates, adsorption_sites


def _followup(ctx: Followup, host: Host, metal: str, host_key: str) -> None:
    if host.metal is None or not ctx.done(host_key):
        return
    nearest = adsorption_sites(host.structure, host.region, host.centre)  # ordered by distance to the metal
    computed = [q.site for q in ctx.ranked(host, metal)]
    order = computed + [s.label for s in nearest if s.label not in computed]
    sites = {s.label: s for s in nearest}
    separation = 0.8 * nearest_neighbour_distance(metal)
    for n in (n for n in ctx.settings("sac_loading") if n > 1):
        for label in order:
            try:
                structure = add_adsorbates(host.structure, metal, sites[label], n, host.centre, separation)
            except AnodescreenError:
                continue
            key = ctx.follow.add(structure.properties["label"], "relax", structure)
            ctx.follow.quantities.append(Quantity(
                kind=KIND.name, host=host.info, adsorbate=AdsorbateInfo(element=metal, count=n), site=label,
                region=host.region, complex_key=key, host_key=host_key, reference_keys={},
                complex_label=structure.properties["label"]))
            break


class DistortionDetails(BaseModel):
    """The SAC site's geometry without (pristine) and with (loaded) the alkali, and the changes."""

    model_config = ConfigDict(extra="allow")

    pristine: dict = Field(description="coordination, M-X bonds (Å), X-M-X angles (°), metal height (Å)")
    loaded: dict
    max_bond_change: float = Field(description="Å")
    max_angle_change: float = Field(description="°")
    height_change: float = Field(description="Å")


def _counts(value: list[int]) -> list[int]:
    if not value or any(n < 1 or n > 8 for n in value):
        raise AnodescreenError("sac_loading counts must be 1 to 8 atoms", "sac_loading")
    return sorted(set(value))


def _derive(kind: RowKind, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
    host = Structure.from_dict(calcs[q.host_key][0].structure)
    details = DistortionDetails.model_validate(
        sac_distortion(host, Structure.from_dict(calcs[q.complex_key][0].structure), q.host.metal))
    return unreferenced_row(q, kind, details.max_bond_change, details, calcs, campaign)


KIND = RowKind(name="sac_distortion", unit="Å", reference="none", derive=_derive, details=DistortionDetails,
               definition="largest change of an M-X bond length on adding the alkali (angles in details)")

PROPERTY = Property(name="sac_distortion", rows=(KIND,), description="M-X geometry change of a SAC site with 1, "
                    "2, … alkali atoms (sac_loading)", applies=lambda host: host.metal is not None,
                    followup=_followup, wants_followup=lambda spec: max(spec.sac_loading) > 1,
                    settings={"sac_loading": (Annotated[list[int], AfterValidator(_counts)], Field(
                        [1], description="sac_distortion with 1, 2, … alkali atoms around each SAC metal (2+: "
                                         "copies of the most favourable single-atom site)"))})
