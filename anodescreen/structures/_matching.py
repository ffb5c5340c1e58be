"""Coincidence supercells of two 2D lattices (Zur–McGill, via pymatgen's ZSLGenerator).

A match is a pair of integer supercell matrices whose superlattices agree within the
strain tolerance. The film is deformed onto the substrate; its strain is the symmetric
stretch U − 1 of the polar decomposition A = R·U of the map A (film → substrate
superlattice), and the twist is the angle of R.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.interfaces.zsl import ZSLGenerator

from anodescreen.errors import AnodescreenError


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class LatticeMatch:
    """A coincidence supercell: integer matrices, film strain and twist."""

    film_matrix: np.ndarray  # rows: film superlattice vectors in film primitive units
    substrate_matrix: np.ndarray
    strain: np.ndarray  # 2×2 symmetric strain of the film (fraction)
    twist: float  # degrees between the two crystal lattices, modulo their rotation symmetry
    area: float  # Å²

    @property
    def max_strain(self) -> float:
        """Largest principal strain magnitude (fraction)."""
        return float(np.abs(np.linalg.eigvalsh(self.strain)).max())


def is_hexagonal(v: np.ndarray) -> bool:
    """Two equal in-plane vectors at 60° or 120°."""
    v = np.asarray(v, dtype=float)[:2, :2]
    a, b = np.linalg.norm(v, axis=1)
    cos = v[0] @ v[1] / (a * b)
    return abs(a - b) < 1e-6 * a and abs(abs(cos) - 0.5) < 1e-6


#: of mirror-image matches (+θ, -θ), the one whose twist has this sign is kept
TWIST_SIGN = -1


def _rotations(primitive: np.ndarray, period: float) -> list[np.ndarray]:
    """Integer matrices g with g @ primitive the lattice rotated by a multiple of ``period`` degrees."""
    metric = primitive @ primitive.T
    found = []
    for g in (np.array(g).reshape(2, 2) for g in itertools.product((-1, 0, 1), repeat=4)):
        if round(np.linalg.det(g)) != 1 or not np.allclose(g @ metric @ g.T, metric):
            continue
        rotated = g @ primitive
        angle = np.degrees(np.arctan2(np.cross(primitive[0], rotated[0]), primitive[0] @ rotated[0]))
        if min(angle % period, -angle % period) < 1e-6:
            found.append(g)
    return found


def _canonical_film(film_matrix: np.ndarray, film: np.ndarray, period: float) -> np.ndarray:
    """The film supercell rotated by one of the film lattice's rotations that leave the twist as it is
    (multiples of ``period``), the one that makes its matrix smallest. Such a rotation coincides with
    the substrate cell as well as before, but the stacking shifts of further planes land elsewhere (C for
    B in hcp): the choice must not be left to the order pymatgen's generator yields the matches in.
    """
    return min((film_matrix @ g for g in _rotations(film, period)), key=lambda m: tuple(m.ravel()))


def _integer_matrix(vectors: np.ndarray, primitive: np.ndarray) -> np.ndarray:
    m = np.linalg.solve(primitive.T, vectors.T).T
    rounded = np.round(m)
    if not np.allclose(m, rounded, atol=1e-6):
        raise AssertionError("superlattice is not an integer multiple of the primitive cell")
    return rounded.astype(int)


def _canonical_pair(f: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right-handed substrate vectors (the film follows), so that areas are positive."""
    if np.linalg.det(s) < 0:
        f, s = f[::-1], s[::-1]
    return f, s


def lattice_matches(
    film: np.ndarray, substrate: np.ndarray, max_strain: float = 0.03, max_area: float = 400.0
) -> list[LatticeMatch]:
    """Coincidence supercells of ``film`` on ``substrate`` (2×2 or 2×3 row vectors, Å).

    Sorted by area, then by strain; the first is the smallest cell within tolerance.
    """
    if not 0 < max_strain < 0.5:
        raise AnodescreenError(f"strain tolerance {max_strain} is impossible (0 < max_strain < 0.5)",
                               "max_strain")
    film2 = np.asarray(film, dtype=float)[:, :2]
    sub2 = np.asarray(substrate, dtype=float)[:, :2]
    to3d = lambda v: np.hstack([v, np.zeros((2, 1))])  # noqa: E731
    generator = ZSLGenerator(max_area_ratio_tol=2 * max_strain, max_area=max_area,
                             max_length_tol=max_strain, max_angle_tol=max_strain)
    period = 60.0 if is_hexagonal(film2) and is_hexagonal(sub2) else 180.0
    found: dict[tuple, LatticeMatch] = {}
    for match in generator(to3d(film2), to3d(sub2)):
        f = np.asarray(match.film_sl_vectors, dtype=float)[:, :2]
        s = np.asarray(match.substrate_sl_vectors, dtype=float)[:, :2]
        f, s = _canonical_pair(f, s)
        film_matrix = _canonical_film(_integer_matrix(f, film2), film2, period)
        f = film_matrix @ film2
        a = s.T @ np.linalg.inv(f.T)  # maps film superlattice vectors onto the substrate's
        u_vals, u_vecs = np.linalg.eigh(a.T @ a)
        u = u_vecs @ np.diag(np.sqrt(u_vals)) @ u_vecs.T
        r = a @ np.linalg.inv(u)
        strain = u - np.eye(2)
        if np.abs(np.linalg.eigvalsh(strain)).max() > max_strain + 1e-9:
            continue
        twist = (float(np.degrees(np.arctan2(r[1, 0], r[0, 0]))) + period / 2) % period - period / 2
        result = LatticeMatch(film_matrix, _integer_matrix(s, sub2), strain,
                              round(twist, 6), float(abs(np.linalg.det(s))))
        # +θ and -θ are mirror images: the same cell for achiral layers (graphene, MoS2, metals); the
        # one kept is chosen by TWIST_SIGN, not by the order pymatgen's generator yields them in
        key = (round(result.area, 3), round(result.max_strain, 6), round(abs(twist), 3))
        if key not in found or TWIST_SIGN * result.twist > TWIST_SIGN * found[key].twist:
            found[key] = result
    matches = []
    for m in sorted(found.values(), key=lambda m: (round(m.area, 6), round(m.max_strain, 9), abs(m.twist))):
        repeat = any(abs(m.max_strain - k.max_strain) < 1e-6 and abs(abs(m.twist) - abs(k.twist)) < 1e-3
                     and abs(m.area / k.area - round(m.area / k.area)) < 1e-6 for k in matches)
        if not repeat:  # a multiple of a smaller cell with the same strain and twist
            matches.append(m)
    if not matches:
        raise AnodescreenError(
            f"no coincidence cell within {max_strain:.1%} strain and {max_area:.0f} Å²", "max_strain")
    return matches
