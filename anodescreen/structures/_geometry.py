"""Geometry helpers shared by every builder: canonical ordering, vacuum, distances."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from anodescreen.errors import AnodescreenError

#: Decimals kept in fractional coordinates so that builds are identical across machines.
FRAC_DECIMALS = 10
#: Sites closer than this (Å) are never produced by a builder.
MIN_DISTANCE = 0.9


def check_vacuum(vacuum: float, field: str = "vacuum") -> float:
    """Reject vacuum too thin to separate periodic images of a 2D system."""
    if not vacuum or vacuum < 5.0:
        raise AnodescreenError(f"vacuum of {vacuum} Å is too thin (need ≥ 5 Å)", field)
    return float(vacuum)


def slab_structure(
    lattice_2d: np.ndarray,
    species: list[str],
    cart: np.ndarray,
    vacuum: float,
    site_properties: dict[str, list] | None = None,
    label: str | None = None,
) -> Structure:
    """Place atoms given in Cartesian Å in a cell with ``vacuum`` Å along c, centred.

    ``lattice_2d`` holds the two in-plane vectors (rows; a z component is ignored). The result is canonical:
    fractional coordinates wrapped into [0, 1), rounded, and sites sorted by
    (z, y, x, species) so that equal inputs give identical bytes.
    """
    cart = np.asarray(cart, dtype=float)
    z = cart[:, 2]
    thickness = float(z.max() - z.min())
    c = thickness + check_vacuum(vacuum)
    in_plane = np.asarray(lattice_2d, dtype=float)[:2, :2]
    matrix = np.array([[*in_plane[0], 0.0], [*in_plane[1], 0.0], [0.0, 0.0, c]])
    shifted = cart.copy()
    shifted[:, 2] += c / 2 - (z.max() + z.min()) / 2
    lattice = Lattice(matrix)
    frac = lattice.get_fractional_coords(shifted)
    props = {"label": label} if label else None
    return canonical(
        Structure(lattice, species, frac, site_properties=site_properties, properties=props)
    )


def canonical(structure: Structure) -> Structure:
    """Wrap, round and sort the sites of ``structure`` into a reproducible order."""
    frac = np.round(np.mod(structure.frac_coords, 1.0), FRAC_DECIMALS)
    frac = np.where(frac >= 1.0, 0.0, frac) + 0.0  # + 0.0 turns -0.0 into 0.0
    cart = structure.lattice.get_cartesian_coords(frac)
    order = sorted(
        range(len(structure)),
        key=lambda i: (
            round(cart[i, 2], 4),
            round(cart[i, 1], 4),
            round(cart[i, 0], 4),
            structure[i].species_string,
        ),
    )
    props = {k: [v[i] for i in order] for k, v in structure.site_properties.items()}
    return Structure(
        structure.lattice,
        [structure[i].species for i in order],
        frac[order],
        site_properties=props or None,
        properties=dict(structure.properties),
    )


def min_distance(structure: Structure) -> float:
    """Shortest interatomic distance (Å) including periodic images."""
    if len(structure) < 2:
        return float("inf")
    dm = structure.distance_matrix
    np.fill_diagonal(dm, np.inf)
    best = float(dm.min())
    # an atom's own images matter in small cells
    self_images = min(structure.lattice.abc)
    return min(best, self_images)


def check_min_distance(structure: Structure, what: str) -> Structure:
    """Raise if two atoms of a generated structure overlap."""
    d = min_distance(structure)
    if d < MIN_DISTANCE:
        raise AnodescreenError(f"atoms only {d:.2f} Å apart in {what}", "structure")
    return structure
