"""Surface slabs of metals (current collectors: Cu(111) ...) or SEI compounds (LiF(100) ...);
sites above the top surface."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from anodescreen.core.host import Host, HostFamily, HostSpec
from anodescreen.db.schema import HostInfo
from anodescreen.structures.compounds import COMPOUNDS
from anodescreen.structures.data import check_element
from anodescreen.structures.slabs import metal_slab, sei_slab


class SlabHosts(HostSpec):
    """Surface slabs of metals (Cu(111) …) or SEI compounds (LiF(100) …)."""

    family: Literal["slab"]
    material: str = Field(description="an element (metal slab) or a compound formula (SEI slab)")
    miller: tuple[int, int, int] = (1, 1, 1)
    layers: int = Field(4, ge=1, le=12, description="(hkl) unit planes")
    size: tuple[int, int] = (2, 2)
    vacuum: float = 15.0

    @field_validator("material")
    @classmethod
    def _material(cls, value: str) -> str:
        if value not in COMPOUNDS:
            check_element(value, "material")
        return value


def expand(entry: SlabHosts, element: str) -> list[Host]:
    build = sei_slab if entry.material in COMPOUNDS else metal_slab
    s = build(entry.material, entry.miller, entry.layers, entry.size, entry.vacuum)
    info = HostInfo(family="slab", label=s.properties["label"], supercell="x".join(map(str, entry.size)))
    return [Host(info, s, "top")]


FAMILY = HostFamily(name="slab", spec=SlabHosts, expand=expand,
                    build_options=lambda o: {"material": o["material"],
                                             "miller": [int(c) for c in o["miller"] if c.isdigit()]})
