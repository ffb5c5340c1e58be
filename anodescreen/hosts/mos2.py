"""Bare MoS2 monolayers (2H or 1T′): alkali on the S surface, the reference for graphene/MoS2
heterostructures (Li on 2H-MoS2 prefers the site above Mo)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from anodescreen.core.host import Host, HostFamily, HostSpec
from anodescreen.db.schema import HostInfo
from anodescreen.hosts._common import Size
from anodescreen.structures import mos2_monolayer


class Mos2Hosts(HostSpec):
    """MoS2 monolayers; sites above the top S layer."""

    family: Literal["mos2"]
    phases: list[Literal["2H", "1T'"]] = ["2H"]
    size: Size = Field("3x3", description="supercell of the phase's own cell")
    vacuum: float = 15.0


def expand(entry: Mos2Hosts, element: str) -> list[Host]:
    hosts = []
    for phase in entry.phases:
        s = mos2_monolayer(phase, entry.size, entry.vacuum)
        info = HostInfo(family="mos2", label=s.properties["label"], phase=phase, supercell=entry.size)
        hosts.append(Host(info, s, "top"))
    return hosts


FAMILY = HostFamily(name="mos2", spec=Mos2Hosts, expand=expand, build_options=lambda o: {"phases": [o["phase"]]})
