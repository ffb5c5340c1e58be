"""Planar-averaged charge-density difference Δρ(z) and the charge Δq_z it moves (DOMAIN.md §2).

Δρ = ρ(host+M) − ρ(host) − ρ(M alone), all three at the combined geometry on one grid.
The curve stored is the plane integral λ(z) = ∫∫ Δρ dx dy in e/Å (the planar average
times the cell area), so ∫ λ dz is a number of electrons. Δq_z is ∫ λ dz over the
connected z range around the adsorbate where λ < 0 (down to 0.1 % of λ at the adsorbate):
the electrons the metal layer lost (negative), as in the Δq_z plots of intercalation papers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anodescreen.analysis.bader import DensityGrid

#: the depletion range ends where λ rises above this fraction of its value at the adsorbate
TAIL = 1e-3


@dataclass
class DensityDifference:
    z: list[float]  # Å along c
    line_density: list[float]  # e/Å, plane-integrated Δρ
    depletion: float  # e, ∫ λ dz over the negative range around the adsorbate
    depletion_range: tuple[float, float]  # Å


def line_density(grid: DensityGrid) -> tuple[np.ndarray, np.ndarray]:
    """z (Å, along the cell normal) and the plane-integrated density λ(z) (e/Å)."""
    lattice = grid.structure.lattice
    n = grid.density.shape[2]
    height = lattice.volume / np.linalg.norm(np.cross(lattice.matrix[0], lattice.matrix[1]))
    dz = height / n
    lam = grid.density.sum(axis=(0, 1)) * grid.voxel_volume / dz
    return np.arange(n) * dz, lam


def density_difference(combined: DensityGrid, host: DensityGrid, adsorbate: DensityGrid,
                       adsorbate_z: float) -> DensityDifference:
    """Δρ(z) of ``combined`` − ``host`` − ``adsorbate`` and Δq_z around height ``adsorbate_z`` (Å)."""
    z, lam = line_density(combined - host - adsorbate)
    dz = z[1] - z[0]
    n = len(z)
    k = int(round(adsorbate_z / dz)) % n
    lo = hi = k
    if lam[k] < 0:
        floor = TAIL * lam[k]  # numerically negligible tails do not extend the range
        while lam[(lo - 1) % n] < floor and (hi - lo) < n - 1:
            lo -= 1
        while lam[(hi + 1) % n] < floor and (hi - lo) < n - 1:
            hi += 1
        depletion = float(lam[np.arange(lo, hi + 1) % n].sum() * dz)
    else:
        depletion = 0.0
    return DensityDifference([float(x) for x in z], [float(x) for x in lam], depletion, (lo * dz, hi * dz))
