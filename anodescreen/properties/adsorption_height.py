"""Adsorption height of a single alkali adatom: h = z(M) − mean z of the host's outermost layer
(atoms within 1 Å of its highest atom), in the relaxed complex (Å; the adatom's distance to the
plane it is bound to, e.g. 1.7 Å for Li above graphene's hollow in PBE-D3).

Planned on every site complex of a surface host (regions top and bottom); no extra calculation:
the row is derived from the same relaxation as the binding energy.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from anodescreen.analysis.geometry import adsorption_height
from anodescreen.core.plan import Quantity
from anodescreen.core.property import Calcs, Property, RowKind
from anodescreen.core.rows import adatom_index, unreferenced_row
from anodescreen.db.schema import ResultRow
from anodescreen.errors import AnodescreenError


class HeightDetails(BaseModel):
    """Where the adatom started."""

    initial_height: float = Field(description="h of the built complex, before relaxation (Å)")


def _derive(kind: RowKind, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
    doc = calcs[q.complex_key][0]
    index = adatom_index(doc)
    if index is None:
        raise AnodescreenError(f"an adsorption height needs one adatom, {q.complex_label} has none or several")
    height = adsorption_height(Structure.from_dict(doc.structure), index, q.region)
    start = adsorption_height(Structure.from_dict(doc.input_structure), index, q.region)
    return unreferenced_row(q, kind, height, HeightDetails(initial_height=round(start, 6)), calcs, campaign)


KIND = RowKind(name="adsorption_height", unit="Å", reference="none", derive=_derive, details=HeightDetails,
               definition="h = z(M) - mean z of the host's outermost layer (within 1 A of its top), relaxed complex")

PROPERTY = Property(name="adsorption_height", rows=(KIND,), description="height of the adatom above the surface "
                    "layer, every site of a surface host",
                    applies=lambda host: host.region in ("top", "bottom") and host.multilayer is None)
