"""Batched relaxation: ASE's BFGS step for step, and the same minima as one relaxation at a time."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.lj import LennardJones
from ase.optimize import BFGS
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from anodescreen.engines import MLIPEngine
from anodescreen.engines.batch import relax_together
from anodescreen.structures import add_adsorbate, adsorption_sites, graphene


def _cluster(shift: float) -> Structure:
    """A distorted 4-atom Lennard-Jones cluster (σ 1, so the pair minimum is at 2^(1/6))."""
    coords = [[0, 0, 0], [1.2, 0, 0], [0.5, 1.0 + shift, 0], [0.5, 0.4, 1.0 - shift]]
    return Structure(Lattice.cubic(20.0), ["Ar"] * 4, np.array(coords) + 10.0, coords_are_cartesian=True)


def _lj(structures: list[Structure]) -> list[tuple[float, np.ndarray]]:
    out = []
    for s in structures:
        atoms = AseAtomsAdaptor.get_atoms(s)
        atoms.calc = LennardJones(sigma=1.0, epsilon=1.0, rc=6.0)
        out.append((atoms.get_potential_energy(), atoms.get_forces()))
    return out


def test_batched_bfgs_takes_the_steps_of_ase_bfgs():
    starts = [_cluster(s) for s in (0.0, 0.15, -0.1)]
    batched = relax_together(starts, _lj, fmax=1e-3, max_steps=500)
    for start, result in zip(starts, batched, strict=True):
        atoms = AseAtomsAdaptor.get_atoms(start)
        atoms.calc = LennardJones(sigma=1.0, epsilon=1.0, rc=6.0)
        opt = BFGS(atoms, logfile=None)
        opt.run(fmax=1e-3, steps=500)
        assert result["converged"]
        assert result["n_steps"] == opt.nsteps + 1  # force evaluations: one more than steps taken
        assert result["structure"].cart_coords == pytest.approx(atoms.positions, abs=1e-10)
        # the relaxed tetrahedron: six pairs at the Lennard-Jones minimum, E = −6ε (up to the cutoff shift)
        d = result["structure"].distance_matrix[np.triu_indices(4, 1)]
        assert d == pytest.approx(2 ** (1 / 6), abs=2e-3)


def test_a_relaxation_that_runs_out_of_steps_says_so():
    (result,) = relax_together([_cluster(0.15)], _lj, fmax=1e-6, max_steps=3)
    assert not result["converged"] and result["n_steps"] == 4 and result["max_force"] > 1e-6


@pytest.mark.parametrize("model", ["CHGNet", "SevenNet"])
def test_batched_screening_finds_the_minima_of_one_at_a_time_relaxation(model):
    sheet = graphene("2x2", vacuum=10.0)
    complexes = [add_adsorbate(sheet, "Li", site) for site in adsorption_sites(sheet)]
    one_by_one = MLIPEngine(model=model)
    batched = MLIPEngine(model=model, batch_size=len(complexes))
    assert batched.batches and batched.relax_settings == one_by_one.relax_settings  # the same calc keys
    together = batched.run_batch(complexes)
    for structure, result in zip(complexes, together, strict=True):
        alone = one_by_one.run(structure, "relax")
        assert result.converged and alone.converged
        assert result.energy == pytest.approx(alone.energy, abs=1e-3)
        assert result.structure.cart_coords == pytest.approx(alone.structure.cart_coords, abs=0.02)
