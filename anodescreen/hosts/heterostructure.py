"""Graphene on a MoS2 monolayer (2H or 1T′) in their smallest coincidence cell within
``max_strain``; alkali at the interface (gallery), on graphene (top) or under MoS2 (bottom),
and close-packed metal films at the interface."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from anodescreen.core.host import Host, HostFamily, HostSpec
from anodescreen.db.schema import HostInfo
from anodescreen.structures.heterostructure import graphene_mos2, metal_film_heterostructure


class HeterostructureHosts(HostSpec):
    """Graphene on a MoS2 monolayer; alkali at the interface and/or outside."""

    family: Literal["heterostructure"]
    phases: list[Literal["2H", "1T'"]] = ["2H"]
    regions: list[Literal["gallery", "top", "bottom"]] = Field(
        ["gallery"], description="gallery = interface; top = on graphene; bottom = under MoS2")
    films: list[Literal[1, 2, 3, 4]] = Field([], description="metal layers of a film at the interface")
    max_strain: float = Field(0.03, gt=0, lt=0.5)
    max_area: float = Field(150.0, gt=0, description="largest coincidence cell searched (Å²)")
    match: int = Field(0, ge=0, description="which coincidence cell, smallest area first")
    vacuum: float = 15.0


def expand(entry: HeterostructureHosts, element: str) -> list[Host]:
    hosts = []
    cell = {"max_strain": entry.max_strain, "max_area": entry.max_area, "match": entry.match,
            "vacuum": entry.vacuum}
    for phase in entry.phases:
        s = graphene_mos2(phase, **cell)
        info = HostInfo(family="heterostructure", label=s.properties["label"], phase=phase)
        hosts += [Host(info, s, region) for region in entry.regions]
        for layers in entry.films:
            film = metal_film_heterostructure(element, layers, phase, **cell)
            pristine = graphene_mos2(phase, **cell, repeat=film.properties["repeat"])
            film_info = HostInfo(family="heterostructure", label=pristine.properties["label"], phase=phase)
            hosts.append(Host(film_info, pristine, "gallery", multilayer=film, intercalated=True))
    return hosts


FAMILY = HostFamily(name="heterostructure", spec=HeterostructureHosts, expand=expand,
                    build_options=lambda o: {"phases": [o["phase"]], "regions": [o["region"]]})
