"""Geometry of slabs and adsorbates: vacuum, atomic layers and their spacings and forces, adsorption heights."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError

#: atoms within this height (Å) of the host's outermost atom form its surface layer
LAYER_DEPTH = 1.0


def adsorption_height(structure: Structure, index: int, region: str = "top") -> float:
    """Height (Å) of atom ``index`` above the mean plane of the host's outermost layer on its side
    (``region`` top: the highest atoms of the rest of the structure; bottom: the lowest, height measured
    downwards). Positive = outside the surface."""
    if region not in ("top", "bottom"):
        raise AnodescreenError(f"an adsorption height needs region top or bottom, not {region!r}", "region")
    z = structure.cart_coords[:, 2]
    host = np.delete(z, index)
    if host.size == 0:
        raise AnodescreenError("no host atoms besides the adsorbate", "structure")
    sign = 1.0 if region == "top" else -1.0
    outer = sign * host.max() if region == "top" else sign * host.min()
    layer = host[sign * host >= outer - LAYER_DEPTH]
    return float(sign * (z[index] - layer.mean()))


#: atomic planes closer than this (Å) along c are one layer
LAYER_GAP = 1.0


def layers(structure: Structure, gap: float = LAYER_GAP) -> list[list[int]]:
    """Atom indices of each atomic layer of a slab (vacuum along c), bottom to top: heights sorted
    across the cell's widest empty stretch along c, split wherever consecutive atoms are more than
    ``gap`` Å apart."""
    heights = slab_heights(structure)
    order = np.argsort(heights, kind="stable")
    found = [[int(order[0])]]
    for previous, index in zip(order, order[1:]):
        if heights[index] - heights[previous] > gap:
            found.append([])
        found[-1].append(int(index))
    return found


def interlayer_distances(structure: Structure, gap: float = LAYER_GAP) -> list[float]:
    """Spacings (Å) between the mean heights of consecutive layers, bottom to top (e.g. a Li-intercalated
    bilayer: sheet–Li and Li–sheet; their sum is the gallery)."""
    heights = slab_heights(structure)
    means = [float(np.mean(heights[group])) for group in layers(structure, gap)]
    return [round(b - a, 6) for a, b in zip(means, means[1:])]


def layer_normal_forces(structure: Structure, forces, gap: float = LAYER_GAP) -> list[float]:
    """Net force (eV/Å) along the layer normal on each layer, bottom to top. A layer's spacing to its
    neighbours has converged only when this is small: each atom of a sheet carries 1/N of it, so a
    per-atom force criterion misses it."""
    normal = np.asarray(forces, dtype=float)[:, 2] * np.sign(structure.lattice.matrix[2, 2])
    return [round(float(normal[group].sum()), 6) for group in layers(structure, gap)]


def slab_heights(structure: Structure) -> np.ndarray:
    """Heights of the atoms along the normal of the ab plane (Å), unwrapped so the slab is contiguous
    (the cell is cut across its widest empty stretch along c)."""
    frac = structure.frac_coords[:, 2] % 1.0
    ordered = np.sort(frac)
    gaps = np.diff(np.append(ordered, ordered[0] + 1.0))
    cut = ordered[(int(np.argmax(gaps)) + 1) % len(ordered)]
    height = structure.lattice.volume / np.linalg.norm(np.cross(*structure.lattice.matrix[:2]))
    return ((frac - cut) % 1.0) * height


def vacuum_axes(structure: Structure, min_gap: float = 6.0) -> list[bool]:
    """For each lattice vector, whether the atoms leave an empty slab ≥ ``min_gap`` Å thick along it."""
    frac = structure.frac_coords % 1.0
    m = structure.lattice.matrix
    gaps = []
    for axis in range(3):
        c = np.sort(frac[:, axis])
        largest = np.diff(np.append(c, c[0] + 1.0)).max()
        plane_spacing = structure.lattice.volume / np.linalg.norm(np.cross(m[(axis + 1) % 3], m[(axis + 2) % 3]))
        gaps.append(bool(largest * plane_spacing >= min_gap))
    return gaps


def is_layered(structure: Structure, gap: float = LAYER_GAP) -> bool:
    """A slab (vacuum along c) of two or more atomic layers of two or more atoms each: a bilayer, a
    heterostructure, a metal film or slab, whose spacings a per-atom force criterion leaves unconverged."""
    return bool(vacuum_axes(structure)[2]) and sum(len(layer) > 1 for layer in layers(structure, gap)) > 1


def layer_mean_force(structure: Structure, forces, gap: float = LAYER_GAP) -> float:
    """The largest net normal force on an atomic layer divided by its atom count (eV/Å): the per-atom
    force that sets the layer's spacing to its neighbours (0 for a structure without vacuum along c)."""
    if not vacuum_axes(structure)[2]:
        return 0.0
    net = layer_normal_forces(structure, forces, gap)
    return max(abs(f) / len(layer) for f, layer in zip(net, layers(structure, gap), strict=True))
