"""Single-atom catalysts: one metal atom in an N-doped graphene pocket (M-N4, M-N3, M-N2O2 ...).

One host per metal × motif; sites above the sheet within ``site_radius`` of the metal.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from anodescreen.core.host import Host, HostFamily, HostSpec
from anodescreen.db.schema import HostInfo
from anodescreen.hosts._common import Size
from anodescreen.structures import sac_site
from anodescreen.structures.data import check_element
from anodescreen.structures.defects import parse_motif


class SacHosts(HostSpec):
    """Single metal atoms in N-doped graphene pockets: one host per metal × motif."""

    family: Literal["sac"]
    metals: list[str] = Field(min_length=1)
    motifs: list[str] = ["N4"]
    size: Size | None = Field(None, description="supercell; default from min_image_distance")
    min_image_distance: float = Field(10.0, gt=0, description="Å between periodic metal images")
    site_radius: float = Field(3.0, gt=0, description="sites within this in-plane distance of the metal (Å)")
    bilayer: bool = Field(False, description="a pristine graphene sheet under the SAC sheet (AB)")
    vacuum: float = 15.0

    @field_validator("metals")
    @classmethod
    def _metals(cls, value: list[str]) -> list[str]:
        return [check_element(m, "metal") for m in value]

    @field_validator("motifs")
    @classmethod
    def _motifs(cls, value: list[str]) -> list[str]:
        for motif in value:
            parse_motif(motif)
        return value


def expand(entry: SacHosts, element: str) -> list[Host]:
    hosts = []
    for metal in entry.metals:
        for motif in entry.motifs:
            s = sac_site(metal, motif, entry.size, entry.min_image_distance, entry.vacuum, entry.bilayer)
            info = HostInfo(family="sac", label=s.properties["label"], metal=metal, motif=motif,
                            supercell=s.properties["supercell"])
            hosts.append(Host(info, s, "top", (0.5, 0.5), entry.site_radius))
    return hosts


FAMILY = HostFamily(
    name="sac", spec=SacHosts, expand=expand,
    build_options=lambda o: {"metals": [o["metal"]], "motifs": [o["motif"]], "site_radius": o["site_radius"]})
