"""Vacancy pockets in graphene and the defective / N-doped sheets built from them.

A *pocket* is a vacancy at the cell centre whose dangling atoms are given new species:
four-fold pockets come from an unreconstructed double vacancy (the two atoms of one C–C
bond removed; four dangling atoms 1.88 Å from the centre), three-fold pockets from a
single vacancy (three dangling atoms 1.42 Å from the centre). Motif names list the
lining in order of increasing polar angle from +x: ``N4``, ``N3``, ``N2C2``, ``N2O2``,
``N3O``; ``C4`` and ``C3`` are the bare double and single vacancy.
"""

from __future__ import annotations

import re

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures._geometry import canonical, slab_structure
from anodescreen.structures.data import GRAPHENE_CC
from anodescreen.structures.graphene import PRIMITIVE, graphene, honeycomb_positions, supercell_name

POCKET_ELEMENTS = ("N", "C", "O", "S", "B", "P")


def parse_motif(motif: str) -> list[str]:
    """Pocket species of a motif name: ``"N2O2"`` → ``["N", "N", "O", "O"]``."""
    parts = re.findall(r"([A-Z][a-z]?)(\d*)", str(motif))
    if not parts or "".join(e + n for e, n in parts) != str(motif):
        raise AnodescreenError(f"cannot read motif {motif!r} (e.g. N4, N3, N2C2, N2O2)", "motif")
    species: list[str] = []
    for element, count in parts:
        if element not in POCKET_ELEMENTS:
            raise AnodescreenError(
                f"{element!r} cannot line a pocket (use {', '.join(POCKET_ELEMENTS)})", "motif"
            )
        species += [element] * int(count or 1)
    if len(species) not in (3, 4):
        raise AnodescreenError(f"motif {motif!r} has {len(species)} atoms; pockets hold 3 or 4", "motif")
    return species


def defect_pocket(size, motif: str) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A sheet with a vacancy pocket at its centre, lined by the motif's species.

    Returns species, Cartesian positions, in-plane cell vectors, the pocket centre and
    the in-plane translation applied to the pristine honeycomb to centre the pocket.
    """
    pocket_species = parse_motif(motif)
    vectors, cart = honeycomb_positions(size)
    a1, a2 = vectors[0, :2], vectors[1, :2]
    p1, p2 = PRIMITIVE[0, :2], PRIMITIVE[1, :2]
    # the removed atoms: a C-C bond (double vacancy) or one atom (single vacancy)
    removed_centre = 0.5 * (p1 + p2) if len(pocket_species) == 4 else (p1 + 2 * p2) / 3
    centre = 0.5 * (a1 + a2)
    offset = centre - removed_centre
    xy = cart[:, :2] + offset
    frac = np.mod(np.linalg.solve(np.array([a1, a2]).T, xy.T).T, 1.0)
    xy = frac @ np.array([a1, a2])
    dist = np.linalg.norm(xy - centre, axis=1)
    n_removed = 2 if len(pocket_species) == 4 else 1
    order = np.argsort(np.round(dist, 6), kind="stable")
    removed, pocket = order[:n_removed], order[n_removed : n_removed + len(pocket_species)]
    if not np.allclose(dist[removed], GRAPHENE_CC / 2 if n_removed == 2 else 0.0, atol=1e-6):
        raise AssertionError("vacancy was not placed on the cell centre")
    rel = xy[pocket] - centre
    angles = np.round(np.mod(np.degrees(np.arctan2(rel[:, 1], rel[:, 0])), 360.0), 6)
    pocket = pocket[np.argsort(angles, kind="stable")]
    species = ["C"] * len(xy)
    for index, element in zip(pocket, pocket_species):
        species[index] = element
    keep = np.setdiff1d(np.arange(len(xy)), removed)
    cart_out = np.hstack([xy[keep], np.zeros((len(keep), 1))])
    return [species[i] for i in keep], cart_out, vectors, np.array([*centre, 0.0]), offset


DEFECTS = {"graphitic-N": None, "sv": "C3", "dv": "C4", "pyridinic-N3": "N3", "pyridinic-N4": "N4"}


def defective_graphene(size="4x4", kind: str = "graphitic-N", vacuum: float = 15.0) -> Structure:
    """Graphene with one defect at the cell centre.

    ``kind``: ``graphitic-N`` (one C replaced by N), ``sv`` (single vacancy), ``dv``
    (unreconstructed double vacancy), ``pyridinic-N3`` / ``pyridinic-N4`` (a single /
    double vacancy lined by pyridinic N: the SAC pocket without its metal). The label
    reads e.g. ``G(4x4)-sv``.
    """
    if kind not in DEFECTS:
        raise AnodescreenError(f"unknown defect {kind!r} (use {', '.join(DEFECTS)})", "kind")
    label = f"G({supercell_name(size)})-{kind}"
    if DEFECTS[kind] is None:
        sheet = graphene(size, vacuum)
        centre = sheet.lattice.get_cartesian_coords([0.5, 0.5, 0.5])
        sheet.replace(int(np.argmin(np.linalg.norm(sheet.cart_coords - centre, axis=1))), "N")
        sheet.properties["label"] = label
        return canonical(sheet)
    species, cart, vectors, _, _ = defect_pocket(size, DEFECTS[kind])
    return slab_structure(vectors, species, cart, vacuum, label=label)
