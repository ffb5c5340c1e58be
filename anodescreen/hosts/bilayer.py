"""Alkali in the gallery of AA / AB bilayer graphene: one metal per supercell at every
symmetry-unique gallery site, or a close-packed 2–4 layer film cut from the bulk metal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field
from pymatgen.core import Structure

from anodescreen.core.host import Host, HostFamily, HostSpec, site_complexes
from anodescreen.db.schema import HostInfo
from anodescreen.hosts._common import Size
from anodescreen.structures import bilayer_graphene, gallery_sites, intercalated_bilayer, metal_multilayer_bilayer
from anodescreen.structures.graphene import supercell_name


class BilayerHosts(HostSpec):
    """Bilayer graphene with one metal layer (every gallery site) or a 2–4 layer film."""

    family: Literal["bilayer"]
    stackings: list[Literal["AA", "AB"]] = ["AA", "AB"]
    size: Size = Field("r3xr3", description="one-layer supercell, sets the concentration (r3xr3 = C6MC6)")
    layers: list[Literal[1, 2, 3, 4]] = Field([1], description="metal layers")
    lattice: Literal["fcc", "hcp", "bcc"] | None = Field(None, description="multilayer stacking; default per metal")
    max_strain: float = Field(0.05, gt=0, lt=0.5, description="lateral strain allowed in a multilayer")
    vacuum: float = 15.0


@dataclass(frozen=True)
class BilayerHost(Host):
    """A bilayer host with what its gallery complexes are built from."""

    stacking: str = "AA"
    size: str = "r3xr3"
    vacuum: float = 15.0


def expand(entry: BilayerHosts, element: str) -> list[Host]:
    return [_host(entry, stacking, layers, element) for stacking in entry.stackings for layers in entry.layers]


def _host(entry: BilayerHosts, stacking: str, layers: int, element: str) -> BilayerHost:
    film = None
    size = entry.size
    if layers > 1:
        film = metal_multilayer_bilayer(element, stacking, layers, entry.lattice, entry.max_strain,
                                        vacuum=entry.vacuum)
        size = np.array(film.properties["supercell_matrix"])
    pristine = bilayer_graphene(size, stacking, vacuum=entry.vacuum)
    info = HostInfo(family="bilayer", label=pristine.properties["label"], stacking=stacking,
                    supercell=supercell_name(size))
    return BilayerHost(info, pristine, "gallery", multilayer=film, intercalated=True, stacking=stacking,
                       size=info.supercell, vacuum=entry.vacuum)


def complexes(host: BilayerHost, element: str) -> list[tuple[str, Structure]]:
    """The film, or one metal at each gallery site of the bilayer opened to its intercalated spacing
    (same vacuum as the host)."""
    if host.multilayer is not None:
        return site_complexes(host, element)
    return [(s.label, intercalated_bilayer(element, host.stacking, host.size, site=s.label, vacuum=host.vacuum))
            for s in gallery_sites(element, host.stacking, host.size)]


FAMILY = HostFamily(name="bilayer", spec=BilayerHosts, expand=expand, complexes=complexes,
                    build_options=lambda o: {"stackings": [o["stacking"]], "layers": [o["layers"]]})
