"""Which relaxed structures are one minimum: equal energies and geometries that map onto each other."""

from __future__ import annotations

from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

#: eV: relaxations further apart than this in energy are different minima
ENERGY_TOL = 0.002
#: site tolerance of the structure match, as a fraction of (V/N)^(1/3) (≈ 0.15 Å in a graphene slab cell)
SITE_TOL = 0.05


def same_minima(structures: list[Structure], energies: list[float], energy_tol: float = ENERGY_TOL,
                site_tol: float = SITE_TOL) -> list[list[int]]:
    """Groups (indices, ascending) of structures within ``energy_tol`` eV of each other whose
    geometries match (pymatgen's StructureMatcher, same cell, symmetry-equivalent positions within
    ``site_tol``); a structure that matches no other is a group of its own."""
    matcher = StructureMatcher(ltol=0.01, stol=site_tol, angle_tol=0.5, primitive_cell=False, scale=False,
                               attempt_supercell=False)
    groups: list[list[int]] = []
    for i in sorted(range(len(structures)), key=lambda k: energies[k]):
        for group in groups:
            first = group[0]
            if abs(energies[i] - energies[first]) <= energy_tol and matcher.fit(structures[first], structures[i]):
                group.append(i)
                break
        else:
            groups.append([i])
    return sorted(sorted(g) for g in groups)
