"""Alkali metal intercalated in bilayer graphene: one metal layer or a metal multilayer.

One metal layer (``layers=1``): the two sheets are pulled apart to the carbon-layer
spacing of the stage-1 graphite intercalation compound of that metal (LiC6 3.706 Å,
NaC6 4.45 Å (estimate), KC8 5.35 Å, RbC8 5.65 Å, CsC8 5.94 Å) and one metal atom per
supercell sits in the mid-plane on a gallery site. The supercell sets the concentration:
``r3xr3`` gives C6MC6 (MC12 per bilayer, metal over every third hexagon, the LiC6
in-plane order), ``2x2`` gives C8MC8, ``3x3`` C18MC18. The default site is the first
symmetry-unique gallery site (the hexagon centre, ``hollow`` in AA; ``hollow-top`` in
AB). Labels read ``BLG-AA(r3xr3)/Li@hollow/1L``. The pristine bilayer used as host
reference is :func:`anodescreen.structures.graphene.bilayer_graphene`.

Multilayers (``layers`` = 2–4) are cut from bulk metal along its close-packed plane —
fcc(111) (stacking ABC), hcp(0001) (AB) or bcc(110) (AB, shifted by half the long
in-plane vector) — at the metal's bulk atomic volume (ASE's bcc lattice constant), and
laterally matched to a graphene supercell (smallest coincidence cell within
``max_strain``; the metal takes the strain, which is stored in
``properties["strain"]`` with the twist). Adjacent metal planes are d apart
(fcc/hcp: √(2/3)·d_nn; bcc(110): a/√2); each outer plane sits half the GIC spacing
from its carbon sheet. Defaults follow experiment: fcc for Li, hcp for K, Rb, Cs
(DOMAIN.md §1), bcc(110) for Na. Labels read ``BLG-AB(r7xr7)/K-hcp/2L``.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures._geometry import check_min_distance, slab_structure
from anodescreen.structures._matching import lattice_matches
from anodescreen.structures.data import INTERCALATED_SPACING, bulk_lattice_constant, check_alkali
from anodescreen.structures.graphene import (
    PRIMITIVE,
    bilayer_graphene,
    honeycomb_positions,
    lattice_points,
    stacking_shift,
    supercell_name,
)
from anodescreen.structures.sites import Site, add_adsorbate, adsorption_sites

#: Close-packed stacking of multilayers when none is given (DOMAIN.md §1).
MULTILAYER_LATTICE = {"Li": "fcc", "Na": "bcc", "K": "hcp", "Rb": "hcp", "Cs": "hcp"}
_STACK = {"fcc": [(0, 0), (1 / 3, 2 / 3), (2 / 3, 1 / 3)], "hcp": [(0, 0), (1 / 3, 2 / 3)],
          "bcc": [(0, 0), (0.5, 0)]}


def expanded_bilayer(metal: str, stacking: str = "AA", size="r3xr3", vacuum: float = 15.0) -> Structure:
    """The bilayer opened to the intercalation spacing of ``metal`` (no metal yet)."""
    check_alkali(metal, "metal")
    return bilayer_graphene(size, stacking, INTERCALATED_SPACING[metal], vacuum)


def gallery_sites(metal: str, stacking: str = "AA", size="r3xr3") -> list[Site]:
    """Symmetry-unique sites in the gallery of the opened bilayer."""
    return adsorption_sites(expanded_bilayer(metal, stacking, size), region="gallery")


def intercalated_bilayer(
    metal: str,
    stacking: str = "AA",
    size="r3xr3",
    layers: int = 1,
    site: str | None = None,
    vacuum: float = 15.0,
) -> Structure:
    """Bilayer graphene with one ``metal`` atom per supercell in its gallery.

    Parameters
    ----------
    metal
        Li, Na, K, Rb or Cs.
    stacking
        ``AA`` or ``AB`` carbon stacking.
    size
        Graphene supercell, which fixes the concentration (``r3xr3`` = C6MC6).
    layers
        Number of metal layers, 1 to 4; 2 to 4 are built by :func:`metal_multilayer_bilayer`
        with its defaults (``size`` and ``site`` apply to one layer only).
    site
        Gallery-site label (see :func:`gallery_sites`); the first one by default.
    """
    check_alkali(metal, "metal")
    if check_layers(layers) > 1:
        return metal_multilayer_bilayer(metal, stacking, layers, vacuum=vacuum)
    host = expanded_bilayer(metal, stacking, size, vacuum)
    sites = adsorption_sites(host, region="gallery")
    chosen = sites[0] if site is None else next((s for s in sites if s.label == site), None)
    if chosen is None:
        raise AnodescreenError(
            f"no gallery site {site!r} (have {', '.join(s.label for s in sites)})", "site"
        )
    structure = add_adsorbate(host, metal, chosen)
    structure.properties["label"] += "/1L"
    return structure


def check_layers(layers: int) -> int:
    """Return ``layers`` if it is a buildable number of metal layers (1 to 4)."""
    if layers not in (1, 2, 3, 4):
        raise AnodescreenError(f"{layers} metal layers requested (use 1 to 4)", "layers")
    return layers


def film_positions(metal: str, lattice: str, layers: int, film_matrix: np.ndarray, cell: np.ndarray,
                   z0: float) -> np.ndarray:
    """Cartesian positions of ``layers`` close-packed planes of ``metal``, strained onto ``cell``.

    ``film_matrix`` is the metal supercell that coincides with ``cell``; the first plane
    is at height ``z0`` and the next ones follow the bulk stacking and spacing.
    """
    film, shifts, spacing = metal_planes(metal, lattice)
    planes = []
    for k in range(layers):
        points = lattice_points(film_matrix, np.array([shifts[k % len(shifts)]]), film, cell)
        points[:, 2] = z0 + k * spacing
        planes.append(points)
    return np.vstack(planes)


def metal_planes(metal: str, lattice: str) -> tuple[np.ndarray, list[tuple[float, float]], float]:
    """Close-packed plane of bulk ``metal``: 2D primitive vectors, stacking shifts, spacing.

    The atomic volume is that of the bcc reference crystal, so fcc/hcp planes have the
    nearest-neighbour distance (√2·V)^(1/3) of a close-packed crystal of equal density.
    """
    if lattice not in _STACK:
        raise AnodescreenError(f"unknown lattice {lattice!r} (use fcc, hcp or bcc)", "lattice")
    _, a_bcc = bulk_lattice_constant(metal)
    volume = a_bcc**3 / 2
    if lattice == "bcc":
        vectors = np.array([[a_bcc * np.sqrt(2), 0.0], [a_bcc / np.sqrt(2), a_bcc / 2]])
        return vectors, _STACK["bcc"], a_bcc / np.sqrt(2)
    nn = (np.sqrt(2) * volume) ** (1 / 3)
    vectors = nn * np.array([[1.0, 0.0], [-0.5, np.sqrt(3) / 2]])
    return vectors, _STACK[lattice], nn * np.sqrt(2 / 3)


def metal_multilayer_bilayer(
    metal: str,
    stacking: str = "AB",
    layers: int = 2,
    lattice: str | None = None,
    max_strain: float = 0.05,
    max_area: float = 150.0,
    match: int = 0,
    vacuum: float = 15.0,
) -> Structure:
    """``layers`` close-packed planes of ``metal`` between two graphene sheets.

    ``match`` picks among the coincidence cells sorted by area (0 = smallest).
    """
    check_alkali(metal, "metal")
    check_layers(layers)
    lattice = lattice or MULTILAYER_LATTICE[metal]
    film, _, spacing = metal_planes(metal, lattice)
    try:
        matches = lattice_matches(film, PRIMITIVE[:, :2], max_strain, max_area)
    except AnodescreenError as exc:
        raise AnodescreenError(f"{exc.message} for a {metal}-{lattice} film on graphene; {_alternatives(film, max_area)}",
                               "max_strain") from None
    if not 0 <= match < len(matches):
        raise AnodescreenError(f"match {match} out of range (found {len(matches)})", "match")
    chosen = matches[match]
    vectors, lower = honeycomb_positions(chosen.substrate_matrix)
    _, upper = honeycomb_positions(chosen.substrate_matrix, shift=stacking_shift(stacking))
    gap = INTERCALATED_SPACING[metal] / 2
    thickness = (layers - 1) * spacing
    upper[:, 2] += 2 * gap + thickness
    metal_cart = film_positions(metal, lattice, layers, chosen.film_matrix, vectors, gap)
    cart = np.vstack([lower, upper, metal_cart])
    species = ["C"] * (len(lower) + len(upper)) + [metal] * len(metal_cart)
    cell = supercell_name(chosen.substrate_matrix)
    label = f"BLG-{stacking.upper()}({cell})/{metal}-{lattice}/{layers}L"
    structure = slab_structure(vectors, species, cart, vacuum, label=label)
    structure.properties.update({"strain": round(chosen.max_strain, 6), "twist": round(chosen.twist, 4),
                                 "lattice": lattice, "layers": layers,
                                 "supercell_matrix": chosen.substrate_matrix.tolist()})
    return check_min_distance(structure, label)


def _alternatives(film: np.ndarray, max_area: float, shown: int = 4) -> str:
    """The least strained coincidence cells that exist up to ``max_area``: graphene cell, metal atoms
    per layer, lateral strain."""
    try:
        found = sorted(lattice_matches(film, PRIMITIVE[:, :2], 0.45, max_area), key=lambda m: m.max_strain)[:shown]
    except AnodescreenError:
        return "none exists below 45 % strain: raise max_area"
    cells = ", ".join(f"{supercell_name(m.substrate_matrix)} ({round(abs(np.linalg.det(m.film_matrix)))} "
                      f"atoms/layer, {100 * m.max_strain:.1f} %)" for m in found)
    return f"cells that exist: {cells}"
