"""Barriers from a NEB energy profile (DOMAIN.md §2).

The image barrier is E_a = max_i E_i − E_initial (forward) and max_i E_i − E_final
(reverse). The profile is also splined through the images as a cubic Hermite curve
that matches each image's energy and its slope along the path, dE/ds = −F·τ̂ (the
scheme of ASE's NEBTools); the spline maximum is stored beside the image barrier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicHermiteSpline


@dataclass
class Barrier:
    """Forward/reverse barriers of one path and the profile they came from."""

    forward: float
    reverse: float
    spline_forward: float
    spline_reverse: float
    saddle_image: int
    path: list[float]  # cumulative path length of each image (Å)
    energies: list[float]  # image energies relative to the initial image (eV)
    spline: tuple[list[float], list[float]]  # (s, E) sampled on the spline


def path_coordinates(positions: list[np.ndarray], cell: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Cumulative path length of each image and the unit tangent at each image (minimum image)."""
    inv = np.linalg.inv(cell)
    steps = []
    for a, b in zip(positions[:-1], positions[1:]):
        frac = (b - a) @ inv
        steps.append((frac - np.round(frac)) @ cell)
    lengths = np.array([np.linalg.norm(d) for d in steps])
    s = np.concatenate([[0.0], np.cumsum(lengths)])
    tangents = []
    for i in range(len(positions)):
        d = steps[max(i - 1, 0)] + steps[min(i, len(steps) - 1)]
        tangents.append(d / np.linalg.norm(d))
    return s, tangents


def neb_barrier(energies: list[float], s: np.ndarray | list[float], slopes: list[float] | None = None,
                samples: int = 200) -> Barrier:
    """Barriers of a profile: image energies (eV) at path lengths ``s`` (Å), optional dE/ds."""
    e = np.asarray(energies, dtype=float)
    s = np.asarray(s, dtype=float)
    if len(e) < 3 or len(e) != len(s) or np.any(np.diff(s) <= 0):
        raise ValueError("a profile needs at least 3 images at increasing path lengths")
    slopes = np.gradient(e, s) if slopes is None else np.asarray(slopes, dtype=float)
    curve = CubicHermiteSpline(s, e, slopes)
    grid = np.union1d(np.linspace(s[0], s[-1], samples), s)
    values = curve(grid)
    top = max(values.max(), e.max())
    saddle = int(np.argmax(e))
    rel = e - e[0]
    return Barrier(forward=float(e[saddle] - e[0]), reverse=float(e[saddle] - e[-1]),
                   spline_forward=float(top - e[0]), spline_reverse=float(top - e[-1]), saddle_image=saddle,
                   path=[float(x) for x in s], energies=[float(x) for x in rel],
                   spline=([float(x) for x in grid], [float(x - e[0]) for x in values]))
