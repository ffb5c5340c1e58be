"""A concrete host and the interface a host family implements.

A :class:`Host` is one structure an alkali goes on or into, with the typed parameters it
was built from (supercell, SAC metal, stacking, phase ...), so nothing is parsed back out
of its label. A :class:`HostFamily` (one module under :mod:`anodescreen.hosts`) turns a
spec entry into hosts and a host into its adsorbate complexes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pymatgen.core import Structure

from anodescreen.db.schema import HostInfo
from anodescreen.structures.sites import add_adsorbate, adsorption_sites


@dataclass(frozen=True)
class Host:
    """One host of a campaign, built by its family.

    ``structure`` is what the adsorbate goes on or into and what the host energy is taken
    from; ``region`` where the sites are (top, bottom, gallery); ``centre`` and
    ``site_radius`` restrict the sites to those around a defect or metal; ``multilayer`` is a
    whole metal film (one complex, no sites). ``intercalated``: its complexes give an
    intercalation energy, not a binding energy. A family whose complexes need more of its
    build parameters subclasses it (e.g. a bilayer's stacking, size and vacuum).
    """

    info: HostInfo
    structure: Structure
    region: str
    centre: tuple[float, float] | None = None
    site_radius: float | None = None
    multilayer: Structure | None = None
    intercalated: bool = False

    @property
    def metal(self) -> str | None:
        """The single-atom metal of a SAC host."""
        return self.info.metal


def site_complexes(host: Host, element: str) -> list[tuple[str, Structure]]:
    """(site label, host + one ``element`` atom) for every symmetry-unique site of the host's region;
    a metal film host has its film as the one complex."""
    if host.multilayer is not None:
        film = host.multilayer
        return [(f"{film.properties['lattice']}-{film.properties['layers']}L", film)]
    sites = adsorption_sites(host.structure, host.region, host.centre, host.site_radius)
    return [(s.label, add_adsorbate(host.structure, element, s)) for s in sites]


class HostSpec(BaseModel):
    """Base of every family's spec entry: strict (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class HostFamily:
    """A host family: its spec entry model, how an entry expands into hosts, and their complexes.

    ``expand(entry, element)`` gives the concrete hosts for adsorbate ``element`` (a metal
    film depends on it); ``complexes(host, element)`` the (site label, structure) pairs to
    relax; ``build_options(options)`` maps ``anodescreen build`` options (metal, motif,
    stacking, layers, defect, phase, region, material, miller, site_radius) to entry fields.
    """

    name: str
    spec: type[HostSpec]
    expand: Callable[[Any, str], list[Host]]
    build_options: Callable[[dict], dict]
    complexes: Callable[[Host, str], list[tuple[str, Structure]]] = site_complexes
