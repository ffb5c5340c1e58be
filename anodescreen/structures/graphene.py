"""Graphene sheets and bilayers: pristine, AA/AB stacked, with vacancies and N dopants.

Defective and doped sheets are in :mod:`anodescreen.structures.defects`.

Geometry: hexagonal primitive cell a = √3·1.42 Å = 2.4595 Å, γ = 120°, carbon at
fractional (1/3, 2/3) and (2/3, 1/3) so that the hexagon centre (the *hollow*) sits at
the cell origin. AA stacking puts the upper sheet directly above the lower one; AB
(Bernal) shifts it by (1/3, -1/3), so half its atoms lie above atoms and half above
hollows of the lower sheet. Supercells are named ``"nxm"`` (diagonal) or ``"r3xr3"``
(√3×√3 R30°, 6 C per sheet, the cell of C6MC6 intercalation).
"""

from __future__ import annotations

import re

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures._geometry import slab_structure
from anodescreen.structures._matching import is_hexagonal
from anodescreen.structures.data import GRAPHENE_CC, GRAPHITE_SPACING

A_GRAPHENE = GRAPHENE_CC * np.sqrt(3.0)
PRIMITIVE = A_GRAPHENE * np.array([[1.0, 0.0, 0.0], [-0.5, np.sqrt(3.0) / 2, 0.0]])
_BASIS = np.array([[1 / 3, 2 / 3], [2 / 3, 1 / 3]])
_STACKING_SHIFT = {"AA": np.array([0.0, 0.0]), "AB": np.array([1 / 3, -1 / 3])}
_SPECIAL = {"r3xr3": ((2, 1), (-1, 1))}


def supercell_matrix(size: str | int | tuple[int, int] | np.ndarray) -> np.ndarray:
    """2×2 integer matrix of a supercell (``"5x5"``, ``"3x4"``, ``"r3xr3"``, 5, or a matrix)."""
    if isinstance(size, np.ndarray) and size.shape == (2, 2):
        if abs(round(np.linalg.det(size))) < 1:
            raise AnodescreenError("supercell matrix is singular", "supercell")
        return size.astype(int)
    if isinstance(size, int):
        size = (size, size)
    if isinstance(size, (tuple, list)) and len(size) == 2:
        size = f"{size[0]}x{size[1]}"
    key = str(size).lower()
    if key in _SPECIAL:
        return np.array(_SPECIAL[key])
    match = re.fullmatch(r"(\d+)x(\d+)", key)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise AnodescreenError(f"unknown supercell {size!r} (use 'nxm' or 'r3xr3')", "supercell")
    return np.diag([int(match[1]), int(match[2])])


def supercell_name(size: str | int | tuple[int, int] | np.ndarray, primitive: np.ndarray | None = None) -> str:
    """Canonical name of a supercell of ``primitive`` (graphene's by default), used in labels."""
    m = supercell_matrix(size)
    primitive = PRIMITIVE[:, :2] if primitive is None else np.asarray(primitive)[:2, :2]
    hexagonal = is_hexagonal(primitive)
    for name, special in _SPECIAL.items():
        if hexagonal and np.array_equal(m, special):
            return name
    if m[0, 1] == 0 and m[1, 0] == 0:
        return f"{m[0, 0]}x{m[1, 1]}"
    v = m @ primitive
    n = int(round(abs(np.linalg.det(m))))
    if hexagonal and is_hexagonal(v):
        k = int(round(np.sqrt(n)))
        angle = np.degrees(np.arctan2(v[0, 1], v[0, 0])) % 60.0
        if k * k == n and min(angle, 60.0 - angle) < 1e-6:
            return f"{k}x{k}"  # an unrotated hexagonal supercell
        return f"r{n}xr{n}"  # hexagonal √n×√n supercell
    return "[" + " ".join(str(x) for x in m.ravel()) + "]"


def honeycomb_positions(size, shift=(0.0, 0.0), cell: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """In-plane supercell vectors (2×3) and Cartesian positions of one graphene sheet.

    With ``cell``, the sheet is strained onto that cell (same fractional positions).
    """
    m = supercell_matrix(size)
    vectors = m @ PRIMITIVE[:, :2]
    vectors = np.hstack([vectors, np.zeros((2, 1))])
    return vectors, lattice_points(m, _BASIS + np.asarray(shift), PRIMITIVE[:, :2], cell)


def lattice_points(m: np.ndarray, basis: np.ndarray, primitive: np.ndarray,
                   cell: np.ndarray | None = None) -> np.ndarray:
    """Cartesian positions (z = 0) of ``basis`` (primitive fractional) in the supercell ``m``.

    With ``cell`` (2×2), the same fractional positions in that cell: the supercell is
    strained onto it, as a film on a coincidence substrate.
    """
    vectors = m @ primitive if cell is None else np.asarray(cell)[:2, :2]
    inv = np.linalg.inv(m.T.astype(float))
    n = int(round(abs(np.linalg.det(m))))
    span = int(np.abs(m).sum()) + 1
    frac_points = []
    for i in range(-span, span + 1):
        for j in range(-span, span + 1):
            for b in basis:
                f = np.round(inv @ (np.array([i, j]) + b), 10)  # fractional in the supercell
                f[np.abs(f - 1.0) < 1e-9] = 0.0  # a point on the far face is its image at 0
                if np.all(f >= 0) and np.all(f < 1) and not any(np.allclose(f, q) for q in frac_points):
                    frac_points.append(f)
    if len(frac_points) != len(basis) * n:
        raise AssertionError(f"tiling found {len(frac_points)} points, expected {len(basis) * n}")
    cart = np.array(frac_points) @ vectors
    return np.hstack([cart, np.zeros((len(cart), 1))])


def graphene(size: str | int | tuple[int, int] = "1x1", vacuum: float = 15.0) -> Structure:
    """A flat graphene sheet (C–C 1.42 Å) centred in ``vacuum`` Å of vacuum; label ``G(nxm)``."""
    vectors, cart = honeycomb_positions(size)
    label = f"G({supercell_name(size)})"
    return slab_structure(vectors, ["C"] * len(cart), cart, vacuum, label=label)


def bilayer_graphene(
    size: str | int | tuple[int, int] = "1x1",
    stacking: str = "AB",
    spacing: float = GRAPHITE_SPACING,
    vacuum: float = 15.0,
) -> Structure:
    """Two graphene sheets ``spacing`` Å apart in AA or AB registry; label ``BLG-AB(nxm)``."""
    vectors, lower = honeycomb_positions(size)
    _, upper = honeycomb_positions(size, shift=stacking_shift(stacking))
    upper[:, 2] += spacing
    cart = np.vstack([lower, upper])
    label = f"BLG-{str(stacking).upper()}({supercell_name(size)})"
    return slab_structure(vectors, ["C"] * len(cart), cart, vacuum, label=label)


def stacking_shift(stacking: str) -> np.ndarray:
    """In-plane shift (primitive fractional) of the upper sheet for a stacking name."""
    key = str(stacking).upper()
    if key not in _STACKING_SHIFT:
        raise AnodescreenError(f"unknown stacking {stacking!r} (use AA or AB)", "stacking")
    return _STACKING_SHIFT[key]
