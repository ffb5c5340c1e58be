"""Parsing a CP2K run: energies, SCF and optimiser convergence, forces, final geometry, density cube."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
from ase.units import Hartree
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from anodescreen.engines.base import Task
from anodescreen.engines.cp2k.inputs import FORCE_AU, PROJECT


class Cp2kOutput(BaseModel):
    """What :func:`parse_output` read from one CP2K run."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    version: str | None = None
    energies: list[float] = Field(default_factory=list, description="eV, one per force evaluation")
    scf_converged: list[bool] = Field(default_factory=list)
    opt_converged: bool | None = None
    max_force: float | None = None
    forces: list[list[float]] | None = Field(None, description="last printed forces (eV/Å)")
    structure: Structure | None = None
    problem: str | None = None
    files: dict[str, str] = Field(default_factory=dict)


def parse_output(rundir: Path, initial: Structure | None, task: Task) -> Cp2kOutput:
    """Energies, convergence, forces and final structure of the run in ``rundir``."""
    text = (rundir / f"{PROJECT}.out").read_text(errors="replace")
    out = parse_text(text)
    restart = rundir / f"{PROJECT}-1.restart"
    if task != "static" and restart.exists():
        from ase.io import read

        atoms = read(restart, format="cp2k-restart")
        out.structure = AseAtomsAdaptor.get_structure(atoms)
    elif initial is not None:
        out.structure = initial
    if out.structure is not None and initial is not None:
        out.structure.properties = dict(initial.properties)
    cube = sorted(rundir.glob(f"{PROJECT}-ELECTRON_DENSITY-1_*.cube"))
    if cube:
        out.files["density"] = str(cube[-1])
    if task == "static":
        out.opt_converged = True
    out.problem = _problem(out, text)
    return out


def parse_text(text: str) -> Cp2kOutput:
    """Parse a CP2K main output file's text (any run type)."""
    version = re.search(r"CP2K\| version string:\s+CP2K version (\S+)", text)
    energies = [float(e) * Hartree for e in
                re.findall(r"ENERGY\| Total FORCE_EVAL \( QS \) energy[^:]*:\s+(\S+)", text)]
    scf = [m == "converged" for m in re.findall(r"SCF run (converged|NOT converged)", text)]
    opt = None
    if "GEOMETRY OPTIMIZATION COMPLETED" in text:
        opt = True
    elif "MAXIMUM NUMBER OF OPTIMIZATION STEPS REACHED" in text:
        opt = False
    forces = _last_forces(text)
    return Cp2kOutput(version=version.group(1) if version else None, energies=energies,
                      scf_converged=scf, opt_converged=opt, forces=forces.tolist() if forces is not None else None,
                      max_force=float(np.linalg.norm(forces, axis=1).max()) if forces is not None else None)


def _last_forces(text: str) -> np.ndarray | None:
    """The last ATOMIC FORCES block (eV/Å)."""
    blocks = text.split("ATOMIC FORCES in [a.u.]")
    if len(blocks) < 2:
        return None
    rows = re.findall(r"^\s+\d+\s+\d+\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s*$", blocks[-1].split("SUM OF ATOMIC FORCES")[0],
                      re.MULTILINE)
    return np.array(rows, dtype=float) * FORCE_AU if rows else None


def _problem(out: Cp2kOutput, text: str) -> str | None:
    if "PROGRAM ENDED AT" not in text:
        return "CP2K output ends before PROGRAM ENDED (crashed or killed)"
    if not out.energies or not all(map(math.isfinite, out.energies)):
        return "no finite total energy in the output"
    if out.scf_converged and not out.scf_converged[-1]:
        return "SCF not converged"
    if out.opt_converged is False:
        return "geometry optimisation reached its step limit"
    if out.opt_converged is None:
        return "geometry optimisation did not report completion"
    return None
