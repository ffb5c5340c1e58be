"""The CP2K input set: basis and pseudopotential of matched valence, and the input file itself.

PBE(+D3) with GTH pseudopotentials and MOLOPT basis sets. Metallic cells need
diagonalisation with Fermi–Dirac smearing, so every calculation uses it (no OT); Broyden
mixing with Kerker damping. K-points follow a spacing; directions across vacuum get one
point. UKS when the structure carries initial moments.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from ase.units import Bohr, Hartree
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.engines.base import Task, is_polar_slab, kpoint_mesh, runs_polarized
from anodescreen.errors import AnodescreenError
from anodescreen.structures.data import has_moments

if TYPE_CHECKING:
    from anodescreen.engines.cp2k.engine import Cp2kEngine

DATA_DIR = Path(os.environ.get("CP2K_DATA_DIR", "/usr/share/cp2k"))
PROJECT = "anodescreen"
FORCE_AU = Hartree / Bohr  # eV/Å per Hartree/Bohr


class Cp2kSettings(BaseModel):
    """Numerical knobs a retry may change; none of them changes the converged energy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mixing_alpha: float = Field(0.1, gt=0, le=1)
    mixing_beta: float = Field(1.5, gt=0, description="Kerker damping of long-wavelength charge sloshing (1/bohr)")
    max_scf: int = Field(100, gt=0)
    restart_from_last: bool = Field(False, description="start from the last geometry of the failed attempt")


def input_text(engine: Cp2kEngine, structure: Structure, task: Task, settings: Cp2kSettings | None = None) -> str:
    """The complete CP2K input for ``task`` on ``structure`` at ``engine``'s settings."""
    settings = settings or engine.scf
    kinds = {el.symbol: basis_and_potential(el.symbol, engine.basis, engine.functional)
             for el in structure.composition}
    electrons = sum(kinds[s.specie.symbol][2] for s in structure)
    magmoms = structure.site_properties.get("magmom")
    uks = runs_polarized(engine.spin, structure)
    run_type = {"static": "ENERGY_FORCE", "relax": "GEO_OPT", "relax-cell": "CELL_OPT"}[task]
    mesh = kpoint_mesh(structure, engine.kspacing)
    fmax_au = engine.fmax / FORCE_AU
    lines = ["&GLOBAL", f"  PROJECT {PROJECT}", f"  RUN_TYPE {run_type}", "  PRINT_LEVEL LOW", "&END GLOBAL"]
    if task != "static":
        opt = "GEO_OPT" if task == "relax" else "CELL_OPT"
        lines += ["&MOTION", f"  &{opt}", "    OPTIMIZER BFGS", f"    MAX_ITER {engine.max_steps}",
                  f"    MAX_FORCE {fmax_au:.6e}", f"    RMS_FORCE {fmax_au:.6e}",
                  "    MAX_DR 1.0", "    RMS_DR 1.0"]
        if task == "relax-cell":
            lines += ["    TYPE DIRECT_CELL_OPT", "    PRESSURE_TOLERANCE 500"]
        lines += [f"  &END {opt}", "&END MOTION"]
    lines += ["&FORCE_EVAL", "  METHOD QS"]
    if task == "relax-cell":
        lines += ["  STRESS_TENSOR ANALYTICAL"]
    lines += ["  &PRINT", "    &FORCES ON", "    &END FORCES", "  &END PRINT", "  &DFT",
              f"    BASIS_SET_FILE_NAME {DATA_DIR / 'BASIS_MOLOPT'}",
              f"    POTENTIAL_FILE_NAME {DATA_DIR / 'GTH_POTENTIALS'}"]
    if uks:
        lines += ["    UKS T", f"    MULTIPLICITY {2 if electrons % 2 else 1}"]
    if engine.dipole == "on" or (engine.dipole == "auto" and is_polar_slab(structure)):
        lines += ["    SURFACE_DIPOLE_CORRECTION T", "    SURF_DIP_DIR Z"]
    lines += ["    &MGRID", f"      CUTOFF {engine.cutoff:g}", f"      REL_CUTOFF {engine.rel_cutoff:g}",
              "    &END MGRID", "    &QS", "      EPS_DEFAULT 1.0E-10", "    &END QS"]
    if mesh != (1, 1, 1):
        lines += ["    &KPOINTS", f"      SCHEME MONKHORST-PACK {mesh[0]} {mesh[1]} {mesh[2]}",
                  "      SYMMETRY F", "      FULL_GRID F", "    &END KPOINTS"]
    added = max(10, int(0.3 * electrons / 2))
    lines += ["    &SCF", "      SCF_GUESS ATOMIC", f"      EPS_SCF {engine.eps_scf:.1e}",
              f"      MAX_SCF {settings.max_scf}", f"      ADDED_MOS {added}",
              "      &SMEAR ON", "        METHOD FERMI_DIRAC",
              f"        ELECTRONIC_TEMPERATURE [K] {engine.electronic_temperature:g}", "      &END SMEAR",
              "      &DIAGONALIZATION", "        ALGORITHM STANDARD", "      &END DIAGONALIZATION",
              "      &MIXING", "        METHOD BROYDEN_MIXING", f"        ALPHA {settings.mixing_alpha:g}",
              f"        BETA {settings.mixing_beta:g}",
              "        NBROYDEN 8", "      &END MIXING", "    &END SCF",
              "    &XC", f"      &XC_FUNCTIONAL {engine.functional}", "      &END XC_FUNCTIONAL"]
    if engine.vdw:
        kind = "DFTD3" if engine.vdw == "D3" else "DFTD3(BJ)"
        lines += ["      &VDW_POTENTIAL", "        POTENTIAL_TYPE PAIR_POTENTIAL", "        &PAIR_POTENTIAL",
                  f"          TYPE {kind}", f"          PARAMETER_FILE_NAME {DATA_DIR / 'dftd3.dat'}",
                  f"          REFERENCE_FUNCTIONAL {engine.functional}", "        &END PAIR_POTENTIAL",
                  "      &END VDW_POTENTIAL"]
    lines += ["    &END XC"]
    if engine.write_density and task == "static":
        lines += ["    &PRINT", "      &E_DENSITY_CUBE", "        STRIDE 1", "      &END E_DENSITY_CUBE",
                  "    &END PRINT"]
    lines += ["  &END DFT", "  &SUBSYS", "    &CELL"]
    lines += [f"      {v} {x:.10f} {y:.10f} {z:.10f}" for v, (x, y, z) in zip("ABC", structure.lattice.matrix)]
    lines += ["      PERIODIC XYZ", "    &END CELL", "    &COORD"]
    lines += [f"      {s.specie.symbol} {x:.10f} {y:.10f} {z:.10f}" for s, (x, y, z)
              in zip(structure, structure.cart_coords)]
    lines += ["    &END COORD"]
    for symbol, (basis, potential, _) in kinds.items():
        lines += [f"    &KIND {symbol}", f"      BASIS_SET {basis}", f"      POTENTIAL {potential}"]
        if uks and has_moments(structure):
            moment = max((m for s, m in zip(structure, magmoms) if s.specie.symbol == symbol), key=abs)
            lines += [f"      MAGNETIZATION {moment:g}"]
        lines += ["    &END KIND"]
    lines += ["  &END SUBSYS", "&END FORCE_EVAL", ""]
    return "\n".join(lines)


@cache
def basis_and_potential(symbol: str, basis: str, functional: str) -> tuple[str, str, int]:
    """Full basis and pseudopotential names of ``symbol`` with the same valence, and that valence.

    ``DZVP-MOLOPT-SR-GTH`` for Na resolves to ``DZVP-MOLOPT-SR-GTH-q9`` with ``GTH-PBE-q9``.
    """
    basis_names = _names(DATA_DIR / "BASIS_MOLOPT", symbol)
    potentials = _names(DATA_DIR / "GTH_POTENTIALS", symbol)
    for name in basis_names:
        match = re.fullmatch(re.escape(basis) + r"-q(\d+)", name)
        if match and f"GTH-{functional}-q{match.group(1)}" in potentials:
            return name, f"GTH-{functional}-q{match.group(1)}", int(match.group(1))
    raise AnodescreenError(f"no {basis} basis with a matching GTH-{functional} potential for {symbol} "
                           f"in {DATA_DIR}", "engine.basis")


def _names(path: Path, symbol: str) -> set[str]:
    if not path.exists():
        raise AnodescreenError(f"CP2K data file {path} missing (install cp2k-data or set CP2K_DATA_DIR)",
                               "engine")
    names = set()
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == symbol and not parts[1][0].isdigit():
            names.update(parts[1:])
    return names
