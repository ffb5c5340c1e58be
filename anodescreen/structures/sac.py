"""Single-atom catalysts: a metal atom in a vacancy pocket of N-doped graphene.

Geometry: a graphene supercell (C–C 1.42 Å) with a vacancy at its centre. Four-fold
pockets (``N4``, ``N2C2``, ``N2O2``, ``N3O`` …) are an unreconstructed double vacancy:
the two atoms of one C–C bond are removed and the four dangling carbons, 1.88 Å from the
pocket centre, are replaced by the motif's elements in order of increasing polar angle
from +x. The metal sits in-plane at the centre (M–N 1.88 Å before relaxation; 1.9–2.0 Å
after). Three-fold pockets (``N3``, ``N2C``) are a single vacancy; there the metal is
lifted 1.26 Å out of the plane so that M–N = 1.90 Å. ``bilayer=True`` adds a pristine
sheet 3.35 Å below in AB registry. Labels read ``Fe-N4@G(5x5)`` / ``Fe-N4@BLG-AB(5x5)``.
"""

from __future__ import annotations

import math

import numpy as np
from pymatgen.core import Element, Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures._geometry import check_min_distance, slab_structure
from anodescreen.structures.data import (
    DEFAULT_MAGMOM,
    GRAPHENE_CC,
    GRAPHITE_SPACING,
    SAC_MAGMOM,
    check_element,
)
from anodescreen.structures.defects import defect_pocket, parse_motif
from anodescreen.structures.graphene import A_GRAPHENE, honeycomb_positions, stacking_shift, supercell_name

#: Metal–pocket distance (Å) used to lift the metal out of a single vacancy.
SV_METAL_DISTANCE = 1.90


def sac_site(
    metal: str,
    motif: str = "N4",
    size: str | int | tuple[int, int] | None = None,
    min_image_distance: float = 10.0,
    vacuum: float = 15.0,
    bilayer: bool = False,
) -> Structure:
    """A single metal atom in an ``motif`` pocket of a graphene supercell.

    Parameters
    ----------
    metal
        Any metallic element (Fe, Co, Zr, Pt …).
    motif
        Pocket lining, e.g. ``N4``, ``N3``, ``N2C2``, ``N2O2``, ``N3O``.
    size
        Supercell (``"5x5"``); by default the smallest n×n cell whose periodic images of
        the metal are at least ``min_image_distance`` Å apart.
    vacuum
        Vacuum along c (Å).
    bilayer
        Add a pristine graphene sheet 3.35 Å below, in AB registry with the SAC sheet.

    The metal carries a ``magmom`` site property (high-spin guess for 3d/4d/5d metals)
    and ``structure.properties["label"]`` reads e.g. ``Fe-N4@G(5x5)`` (``["supercell"]``: ``5x5``).
    """
    check_element(metal, "metal")
    if not Element(metal).is_metal:
        raise AnodescreenError(f"{metal!r} is not a metal", "metal")
    if size is None:
        if min_image_distance <= 0:
            raise AnodescreenError("must be positive", "min_image_distance")
        size = max(2, math.ceil(min_image_distance / A_GRAPHENE - 1e-9))
    species, cart, vectors, centre, offset = defect_pocket(size, motif)
    lift = 0.0
    if len(parse_motif(motif)) == 3:
        lift = math.sqrt(SV_METAL_DISTANCE**2 - GRAPHENE_CC**2)
    sheet = "G"
    if bilayer:
        _, lower = honeycomb_positions(size, shift=stacking_shift("AB"))
        lower[:, :2] += offset
        lower[:, 2] = -GRAPHITE_SPACING
        species += ["C"] * len(lower)
        cart = np.vstack([cart, lower])
        sheet = "BLG-AB"
    species.append(metal)
    cart = np.vstack([cart, centre + [0.0, 0.0, lift]])
    magmom = [0.0] * (len(species) - 1) + [SAC_MAGMOM.get(metal, DEFAULT_MAGMOM)]
    label = f"{metal}-{motif}@{sheet}({supercell_name(size)})"
    structure = slab_structure(vectors, species, cart, vacuum, {"magmom": magmom}, label)
    structure.properties["supercell"] = supercell_name(size)
    return check_min_distance(structure, label)
