"""Charge analysis of an adsorbate on its host: Bader charges and Δρ(z) from three statics.

The combined system, the host alone and the adsorbate alone are computed at the combined
geometry with the same engine and grid (DOMAIN.md §2). Bader basins come from the
all-electron reference density when the engine writes one (VASP LAECHG), else from the
valence density itself (CP2K cube); Z_val is the valence of the pseudopotential the run
reports (CP2K: its GTH potential; VASP: the POTCAR ZVAL in vasprun.xml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pymatgen.core import Structure

from anodescreen.analysis.bader import BaderCharges, DensityGrid, bader_charges, read_density
from anodescreen.analysis.density import DensityDifference, density_difference
from anodescreen.errors import AnodescreenError


@dataclass
class ChargeAnalysis:
    charges: BaderCharges
    adsorbate: list[int]
    transfer: float  # e, net Bader charge of the adsorbate atoms (positive = electrons lost)
    difference: DensityDifference
    files: dict[str, str]
    code_version: str | None = None  # as the combined run's output reports it (VASP)


def _density(files: dict[str, str], role: str) -> DensityGrid:
    if "density" not in files:
        raise AnodescreenError(f"the {role} static wrote no charge density", "charges")
    return read_density(files["density"])


def _reference_density(files: dict[str, str]) -> DensityGrid | None:
    """Core + valence density (VASP AECCAR0 + AECCAR2) for the Bader basins, when written."""
    if "core_density" in files and "valence_density" in files:
        return read_density(files["core_density"]) + read_density(files["valence_density"])
    return None


def charge_analysis(engine, structure: Structure, adsorbate: list[int], workdir: Path,
                    valence: dict[str, float] | None = None) -> ChargeAnalysis:
    """Bader charges of ``structure`` and Δρ(z) of its ``adsorbate`` atoms against the rest."""
    if not engine.has_density:
        raise AnodescreenError(f"engine {engine.name} writes no charge density (use cp2k or vasp)", "engine")
    if not adsorbate or max(adsorbate) >= len(structure):
        raise AnodescreenError(f"adsorbate indices {adsorbate} not in a {len(structure)}-site structure", "charges")
    dense = engine.model_copy(update={"write_density": True})
    rest = [i for i in range(len(structure)) if i not in adsorbate]
    parts = {"combined": structure,
             "host": Structure.from_sites([structure[i] for i in rest]),
             "adsorbate": Structure.from_sites([structure[i] for i in adsorbate])}
    grids, files, reference, version = {}, {}, None, None
    for role, part in parts.items():
        result = dense.run(part, "static", Path(workdir) / role)
        grids[role] = _density(result.files, role)
        if role == "combined":
            reference = _reference_density(result.files)
            valence = valence or result.valence  # the pseudopotentials the run used
            version = result.code_version
        files |= {f"{role} {k}": v for k, v in result.files.items()}
    charges = bader_charges(grids["combined"], valence, reference)
    height = float(np.mean(structure.cart_coords[adsorbate, 2]))
    difference = density_difference(grids["combined"], grids["host"], grids["adsorbate"], height)
    return ChargeAnalysis(charges, adsorbate, charges.transfer(adsorbate), difference, files, version)
