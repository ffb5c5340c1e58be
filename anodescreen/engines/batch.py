"""Relax many structures together: one batched energy-and-force evaluation per optimiser step.

The optimiser is ASE's BFGS (the MLIP engine's default), step for step: initial Hessian
``alpha`` · I, the BFGS update, a step along the eigenvectors of the Hessian scaled so that no
atom moves more than ``maxstep``, and convergence when the largest atomic force is below
``fmax`` and, with ``layer_fmax``, every atomic layer's net normal force per atom is below it (a
layered slab: a sheet's spacing is set by a force shared over its atoms). Each structure keeps
its own Hessian, so a relaxation gives the same minimum whether it runs alone or in a batch; only
the force evaluations are shared.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymatgen.core import Structure

from anodescreen.analysis.geometry import is_layered, layer_mean_force

#: structures → (energy in eV, forces in eV/Å) of each
Evaluate = Callable[[list[Structure]], list[tuple[float, np.ndarray]]]

#: ASE BFGS defaults
MAXSTEP, ALPHA = 0.2, 70.0


class _BFGS:
    """One structure's BFGS state (ASE's update and step) on float64 Cartesian positions, from which each
    step's structure is built afresh (as ASE's calculators build theirs from the atoms)."""

    def __init__(self, structure: Structure, maxstep: float, alpha: float):
        self.start = structure
        self.positions = structure.cart_coords.copy()
        self.maxstep, self.alpha = maxstep, alpha
        self.hessian: np.ndarray | None = None
        self.r0 = self.f0 = None
        self.energies: list[float] = []

    @property
    def structure(self) -> Structure:
        s = self.start
        return Structure(s.lattice, s.species, self.positions, coords_are_cartesian=True,
                         site_properties=s.site_properties, properties=s.properties)

    def step(self, forces: np.ndarray) -> None:
        r, f = self.positions.ravel(), forces.ravel()
        if self.hessian is None:
            self.hessian = np.eye(len(r)) * self.alpha
        else:
            dr = r - self.r0
            if np.abs(dr).max() >= 1e-7:
                df = f - self.f0
                a, dg = dr @ df, self.hessian @ dr
                self.hessian -= np.outer(df, df) / a + np.outer(dg, dg) / (dr @ dg)
        omega, vectors = np.linalg.eigh(self.hessian)
        dr = vectors @ (f @ vectors / np.abs(omega))
        longest = np.sqrt((dr.reshape(-1, 3) ** 2).sum(axis=1)).max()
        if longest >= self.maxstep:
            dr *= self.maxstep / longest
        self.r0, self.f0 = r.copy(), f.copy()
        self.positions = (r + dr).reshape(-1, 3)


def relax_together(structures: list[Structure], evaluate: Evaluate, fmax: float, max_steps: int,
                   layer_fmax: float | None = None, maxstep: float = MAXSTEP, alpha: float = ALPHA) -> list[dict]:
    """Relax every structure (positions only) to ``fmax`` (and ``layer_fmax`` on the layered ones); per
    structure its final structure, energy, forces, per-step energies, force evaluations and whether it
    converged within ``max_steps`` steps."""
    states = [_BFGS(s, maxstep, alpha) for s in structures]
    layered = [layer_fmax is not None and is_layered(s) for s in structures]
    results: list[dict | None] = [None] * len(states)
    active = list(range(len(states)))
    evaluations = 0
    while active:
        evaluations += 1
        structures = [states[i].structure for i in active]
        out = evaluate(structures)
        still = []
        for i, structure, (energy, forces) in zip(active, structures, out, strict=True):
            state = states[i]
            state.energies.append(float(energy))
            largest = float(np.linalg.norm(forces, axis=1).max()) if len(forces) else 0.0
            converged = largest < fmax and not (layered[i] and layer_mean_force(structure, forces) >= layer_fmax)
            if converged or evaluations > max_steps:
                results[i] = {"structure": structure, "energy": float(energy), "forces": forces,
                              "energies": state.energies, "n_steps": evaluations, "max_force": largest,
                              "converged": converged}
            else:
                state.step(forces)
                still.append(i)
        active = still
    return results
