"""MoS2 monolayers (2H, 1T′) and graphene/MoS2 heterostructures on coincidence cells.

2H-MoS2: trigonal prismatic, a = 3.16 Å, S–S height 3.17 Å (bulk 2H-MoS2), so
Mo–S = 2.417 Å. 1T′: the distorted octahedral phase, built as a *starting geometry* from
1T (a = 3.18 Å, octahedral S) in its rectangular a × √3·a cell with the two Mo of the
cell moved toward each other along b to the 2.77 Å Mo–Mo of relaxed 1T′ (zigzag Mo
chains along a; the long Mo–Mo becomes 3.61 Å, 3.72 Å after the cell relaxes); relax it
before use.

The heterostructure puts a graphene sheet ``interlayer`` Å above the top S plane on the
smallest coincidence cell within ``max_strain`` (pymatgen's Zur–McGill search). MoS2
keeps its lattice, whose electronic structure is strain-sensitive; graphene takes the
strain, stored with the twist in ``properties``. Alkali sites: ``region="gallery"``
(interface), ``"top"`` (outside, on graphene) or ``"bottom"`` (outside, under MoS2) in
:func:`anodescreen.structures.sites.adsorption_sites`. Labels read
``G(5x5)/MoS2-2H(4x4)``.

:func:`metal_film_heterostructure` puts 1–4 close-packed alkali planes (as in
:mod:`anodescreen.structures.intercalation`) at the interface: the metal plane is
matched to the heterostructure cell (metal strained), both sheets are repeated by the
resulting supercell, and each outer metal plane sits half the GIC spacing from the
sheet it faces (S plane or graphene); relax before use.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures._geometry import check_min_distance, slab_structure
from anodescreen.structures._matching import LatticeMatch, lattice_matches
from anodescreen.structures.data import INTERCALATED_SPACING, check_alkali
from anodescreen.structures.graphene import (
    PRIMITIVE,
    honeycomb_positions,
    lattice_points,
    supercell_matrix,
    supercell_name,
)

A_2H, A_1T = 3.16, 3.18
S_HEIGHT = 3.17 / 2  # Å, S plane above/below the Mo plane
MO_DIMER = 2.77  # Å, short Mo–Mo distance of 1T′
PHASES = ("2H", "1T'")


def _mos2_cell(phase: str) -> tuple[np.ndarray, list[tuple[str, tuple[float, float], float]]]:
    """Primitive 2D vectors and basis (species, fractional xy, z) of a MoS2 monolayer."""
    if phase == "2H":
        vectors = A_2H * np.array([[1.0, 0.0], [-0.5, np.sqrt(3) / 2]])
        return vectors, [("Mo", (1 / 3, 2 / 3), 0.0), ("S", (2 / 3, 1 / 3), S_HEIGHT),
                         ("S", (2 / 3, 1 / 3), -S_HEIGHT)]
    if phase == "1T'":
        a, b = A_1T, A_1T * np.sqrt(3)
        # half the y-gap between the paired Mo so that their distance is MO_DIMER
        delta = (0.5 - np.sqrt(MO_DIMER**2 - (a / 2) ** 2) / b) / 2
        basis = [("Mo", (0.0, delta), 0.0), ("Mo", (0.5, 0.5 - delta), 0.0),
                  ("S", (0.5, 1 / 6), S_HEIGHT), ("S", (0.0, 2 / 3), S_HEIGHT),
                 ("S", (0.0, 1 / 3), -S_HEIGHT), ("S", (0.5, 5 / 6), -S_HEIGHT)]
        return np.array([[a, 0.0], [0.0, b]]), basis
    raise AnodescreenError(f"unknown MoS2 phase {phase!r} (use {' or '.join(PHASES)})", "phase")


def _layer(matrix: np.ndarray, vectors: np.ndarray, basis) -> tuple[list[str], np.ndarray]:
    species, cart = [], []
    for element, frac, z in basis:
        points = lattice_points(matrix, np.array([frac]), vectors)
        points[:, 2] = z
        species += [element] * len(points)
        cart.append(points)
    return species, np.vstack(cart)


def mos2_monolayer(phase: str = "2H", size="1x1", vacuum: float = 15.0) -> Structure:
    """A MoS2 monolayer in the 2H or 1T′ phase; ``size`` is ``"nxm"`` of its own cell."""
    vectors, basis = _mos2_cell(phase)
    matrix = supercell_matrix(size)
    species, cart = _layer(matrix, vectors, basis)
    label = f"MoS2-{phase}({supercell_name(matrix, vectors)})"
    return check_min_distance(slab_structure(matrix @ vectors, species, cart, vacuum, label=label), label)


def heterostructure_candidates(phase: str = "2H", max_strain: float = 0.03,
                               max_area: float = 150.0) -> list[LatticeMatch]:
    """Coincidence cells of graphene (film) on MoS2 (substrate), smallest area first."""
    vectors, _ = _mos2_cell(phase)
    return lattice_matches(PRIMITIVE[:, :2], vectors, max_strain, max_area)


def graphene_mos2(
    phase: str = "2H",
    max_strain: float = 0.03,
    max_area: float = 150.0,
    match: int = 0,
    interlayer: float = 3.4,
    vacuum: float = 15.0,
    repeat=None,
) -> Structure:
    """Graphene on a MoS2 monolayer; ``match`` indexes :func:`heterostructure_candidates`.

    ``repeat`` (2×2 integers) enlarges the coincidence cell, e.g. to the cell of a metal
    film from :func:`metal_film_heterostructure` (its ``properties["repeat"]``).
    """
    chosen = _candidate(phase, max_strain, max_area, match)
    repeat = np.eye(2, dtype=int) if repeat is None else np.asarray(repeat, dtype=int)
    return _stack(phase, chosen, repeat, interlayer, [], vacuum, "")


def metal_film_heterostructure(
    metal: str,
    layers: int = 1,
    phase: str = "2H",
    lattice: str | None = None,
    max_strain: float = 0.03,
    max_area: float = 150.0,
    match: int = 0,
    metal_strain: float = 0.05,
    metal_area: float = 400.0,
    vacuum: float = 15.0,
) -> Structure:
    """``layers`` close-packed planes of ``metal`` between MoS2 and graphene.

    The heterostructure cell is ``match`` of :func:`heterostructure_candidates`; the
    metal plane is then matched onto it within ``metal_strain`` (smallest supercell).
    """
    from anodescreen.structures.intercalation import (
        MULTILAYER_LATTICE,
        check_layers,
        film_positions,
        metal_planes,
    )

    check_alkali(metal, "metal")
    check_layers(layers)
    chosen = _candidate(phase, max_strain, max_area, match)
    lattice = lattice or MULTILAYER_LATTICE[metal]
    film, _, spacing = metal_planes(metal, lattice)
    cell = chosen.substrate_matrix @ _mos2_cell(phase)[0]
    fit = lattice_matches(film, cell, metal_strain, metal_area)[0]
    gap = INTERCALATED_SPACING[metal] / 2
    planes = film_positions(metal, lattice, layers, fit.film_matrix, fit.substrate_matrix @ cell, S_HEIGHT + gap)
    interlayer = 2 * gap + (layers - 1) * spacing
    structure = _stack(phase, chosen, fit.substrate_matrix, interlayer, [(metal, planes)], vacuum,
                       f"/{metal}-{lattice}/{layers}L")
    structure.properties.update({"metal_strain": round(fit.max_strain, 6), "lattice": lattice, "layers": layers,
                                 "repeat": fit.substrate_matrix.tolist()})
    return structure


def _candidate(phase: str, max_strain: float, max_area: float, match: int) -> LatticeMatch:
    candidates = heterostructure_candidates(phase, max_strain, max_area)
    if not 0 <= match < len(candidates):
        raise AnodescreenError(f"match {match} out of range (found {len(candidates)})", "match")
    return candidates[match]


def _stack(phase: str, chosen: LatticeMatch, repeat: np.ndarray, interlayer: float,
           extra: list[tuple[str, np.ndarray]], vacuum: float, suffix: str) -> Structure:
    """MoS2 and graphene of ``chosen`` repeated by ``repeat``, graphene ``interlayer`` Å above S."""
    vectors, basis = _mos2_cell(phase)
    mos2_matrix = repeat @ chosen.substrate_matrix
    graphene_matrix = repeat @ chosen.film_matrix
    species, cart = _layer(mos2_matrix, vectors, basis)
    cell = mos2_matrix @ vectors
    _, sheet = honeycomb_positions(graphene_matrix, cell=cell)  # graphene takes the strain
    sheet[:, 2] = S_HEIGHT + interlayer
    species += ["C"] * len(sheet)
    parts = [cart, sheet]
    for element, positions in extra:
        species += [element] * len(positions)
        parts.append(positions)
    label = f"G({supercell_name(graphene_matrix)})/MoS2-{phase}({supercell_name(mos2_matrix, vectors)}){suffix}"
    structure = slab_structure(cell, species, np.vstack(parts), vacuum, label=label)
    structure.properties.update({"strain": round(chosen.max_strain, 6), "twist": round(chosen.twist, 4),
                                 "phase": phase})
    return check_min_distance(structure, label)
