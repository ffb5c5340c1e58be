"""Pristine or defective graphene sheets (single vacancy, pyridinic-N ...); sites above the sheet,
measured from the defect."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from anodescreen.core.host import Host, HostFamily, HostSpec
from anodescreen.db.schema import HostInfo
from anodescreen.errors import AnodescreenError
from anodescreen.hosts._common import Size
from anodescreen.structures import defective_graphene, graphene
from anodescreen.structures.defects import DEFECTS
from anodescreen.structures.graphene import supercell_name


class GrapheneHosts(HostSpec):
    """Pristine or defective graphene sheets."""

    family: Literal["graphene"]
    size: Size = "4x4"
    defects: list[str] = ["pristine"]
    site_radius: float | None = Field(None, gt=0, description="sites within this in-plane distance of the defect "
                                                              "(Å; pristine: of the cell origin); default all")
    vacuum: float = 15.0

    @field_validator("defects")
    @classmethod
    def _defects(cls, value: list[str]) -> list[str]:
        for kind in value:
            if kind != "pristine" and kind not in DEFECTS:
                raise AnodescreenError(f"unknown defect {kind!r} (use pristine, {', '.join(DEFECTS)})")
        return value


def expand(entry: GrapheneHosts, element: str) -> list[Host]:
    hosts = []
    for kind in entry.defects:
        pristine = kind == "pristine"
        s = graphene(entry.size, entry.vacuum) if pristine else defective_graphene(entry.size, kind, entry.vacuum)
        info = HostInfo(family="graphene", label=s.properties["label"], supercell=supercell_name(entry.size))
        hosts.append(Host(info, s, "top", None if pristine else (0.5, 0.5), entry.site_radius))
    return hosts


FAMILY = HostFamily(name="graphene", spec=GrapheneHosts, expand=expand,
                    build_options=lambda o: {"defects": [o["defect"]]})
