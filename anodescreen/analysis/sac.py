"""Distortion of a single-atom site under alkali loading (DOMAIN.md §2, SAC stability).

The metal's first shell is its N/O/C neighbours within 1.25 × the shortest M–X distance.
Reported: the M–X lengths, the X–M–X angles between ligands adjacent round the metal
(azimuthal order in the sheet plane; 90° each for a flat M-N4) and the metal's height
above its ligands. Against the pristine site, the largest change of any bond and of any
angle is what a collapsing site (Zr-N4) shows.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError

LIGANDS = ("N", "O", "C", "S", "P", "B")


def sac_geometry(structure: Structure, metal_index: int) -> dict:
    """M–X bonds (Å), adjacent X–M–X angles (°) and the metal's height over its ligands (Å)."""
    neighbours = [n for n in structure.get_neighbors(structure[metal_index], 3.0)
                  if n.specie.symbol in LIGANDS]
    if not neighbours:
        raise AnodescreenError(f"site {metal_index} has no N/O/C neighbour within 3 Å", "sac")
    shortest = min(n.nn_distance for n in neighbours)
    shell = [n for n in neighbours if n.nn_distance <= 1.25 * shortest]
    metal = structure[metal_index].coords
    vectors = np.array([n.coords - metal for n in shell])
    order = np.argsort(np.arctan2(vectors[:, 1], vectors[:, 0]))
    vectors = vectors[order]
    angles = []
    for a, b in zip(vectors, np.roll(vectors, -1, axis=0)):
        cos = np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)
        angles.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return {"coordination": len(shell), "bonds": [float(x) for x in np.linalg.norm(vectors, axis=1)],
            "angles": [float(a) for a in angles] if len(shell) > 1 else [],
            "height": float(-np.mean(vectors[:, 2]))}


def sac_distortion(pristine: Structure, loaded: Structure, metal: str) -> dict:
    """Change of the SAC geometry from ``pristine`` to ``loaded`` (same metal, alkali added)."""
    def index(s: Structure) -> int:
        found = [i for i, site in enumerate(s) if site.specie.symbol == metal]
        if len(found) != 1:
            raise AnodescreenError(f"expected one {metal} atom, found {len(found)}", "sac")
        return found[0]

    before, after = sac_geometry(pristine, index(pristine)), sac_geometry(loaded, index(loaded))
    if before["coordination"] != after["coordination"]:
        raise AnodescreenError(f"{metal} coordination changed from {before['coordination']} to "
                               f"{after['coordination']}: the site broke", "sac")
    bond = max(abs(a - b) for a, b in zip(after["bonds"], before["bonds"]))
    angle = max((abs(a - b) for a, b in zip(after["angles"], before["angles"])), default=0.0)
    return {"pristine": before, "loaded": after, "max_bond_change": bond, "max_angle_change": angle,
            "height_change": after["height"] - before["height"]}
