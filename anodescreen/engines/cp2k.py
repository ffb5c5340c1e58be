"""CP2K engine: PBE(+D3) with GTH pseudopotentials and MOLOPT basis sets, k-points and smearing.

Writes the CP2K input itself (atomate2's CP2K input sets need pymatgen's hashed basis
library, and its custodian runner calls ``killall``), runs ``cp2k.psmp`` under ``mpirun``
in its own process group, and parses the output. Only that process group is ever
signalled, so other CP2K runs on the node are untouched.

Metallic cells need diagonalisation with Fermi–Dirac smearing, so every calculation uses
it (no OT). K-points follow a spacing; directions across vacuum get one point. A
failed SCF or an unfinished relaxation is retried per :attr:`Cp2kEngine.retries`, which
changes only numerics (mixing, SCF steps), never the level of theory.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from ase.units import Bohr, Hartree
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from anodescreen.engines.base import (
    EngineCalculator,
    EngineError,
    EngineResult,
    LevelOfTheory,
    Task,
    is_polar_slab,
    kpoint_mesh,
    runs_polarized,
    spin_polarized,
)
from anodescreen.errors import AnodescreenError
from anodescreen.structures.data import has_moments

DATA_DIR = Path(os.environ.get("CP2K_DATA_DIR", "/usr/share/cp2k"))
PROJECT = "anodescreen"
_FORCE_AU = Hartree / Bohr  # eV/Å per Hartree/Bohr


class Cp2kSettings(BaseModel):
    """Numerical knobs a retry may change; none of them changes the converged energy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mixing_alpha: float = Field(0.1, gt=0, le=1)
    mixing_beta: float = Field(1.5, gt=0, description="Kerker damping of long-wavelength charge sloshing (1/bohr)")
    max_scf: int = Field(100, gt=0)
    restart_from_last: bool = Field(False, description="start from the last geometry of the failed attempt")


class Cp2kEngine(BaseModel):
    """Real CP2K runs with a stated level of theory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Literal["cp2k"] = "cp2k"
    functional: Literal["PBE"] = "PBE"
    vdw: Literal["D3", "D3(BJ)"] | None = "D3"
    basis: Literal["DZVP-MOLOPT-SR-GTH", "DZVP-MOLOPT-GTH", "TZVP-MOLOPT-GTH"] = "DZVP-MOLOPT-SR-GTH"
    cutoff: float = Field(400.0, gt=0, description="plane-wave cutoff of the density grid (Ry)")
    rel_cutoff: float = Field(50.0, gt=0, description="Gaussian mapping cutoff (Ry)")
    kspacing: float = Field(0.25, gt=0, description="k-point spacing, |b_i| with 2π (1/Å)")
    electronic_temperature: float = Field(500.0, gt=0, description="Fermi–Dirac smearing (K)")
    spin: Literal["auto", "on", "off"] = Field(
        "auto", description="auto: UKS when the structure carries magnetic moments (atoms, SAC metals); "
                            "otherwise RKS, which with smearing also holds odd electron counts")
    eps_scf: float = Field(1e-6, gt=0)
    fmax: float = Field(0.05, gt=0, description="force convergence (eV/Å)")
    max_steps: int = Field(200, gt=0, description="geometry steps per attempt")
    scf: Cp2kSettings = Field(default_factory=Cp2kSettings, description="settings of the first attempt")
    retries: list[Cp2kSettings] = Field(
        default_factory=lambda: [Cp2kSettings(mixing_alpha=0.05, max_scf=300, restart_from_last=True),
                                 Cp2kSettings(mixing_alpha=0.02, max_scf=500, restart_from_last=True)],
        description="settings of each further attempt after a failure")
    command: str = Field("cp2k.psmp", description="the CP2K executable")
    mpi_procs: int | None = Field(None, ge=1, description="MPI ranks; default this worker's share of cores")
    timeout_s: float | None = Field(None, gt=0, description="wall time per attempt")
    write_density: bool = Field(False, description="write the valence density cube on statics")
    dipole: Literal["auto", "on", "off"] = Field(
        "off", description="surface dipole correction along z; auto: for slabs without a mirror plane (an "
                           "adatom on one face). CP2K refuses it in thin vacuum (a 10 Å cell) and it slows "
                           "SCF convergence, so it is opt-in")

    def level_of_theory(self) -> LevelOfTheory:
        return LevelOfTheory(
            engine="cp2k", code="cp2k", code_version=cp2k_version(self.command), method=self.functional,
            vdw=self.vdw, basis=f"{self.basis} / GTH-{self.functional}",
            cutoff=f"{self.cutoff:g} Ry (rel {self.rel_cutoff:g} Ry)",
            kpoints=f"MP spacing {self.kspacing:g} 1/Å; 1 across vacuum",
            spin_polarized=spin_polarized(self.spin),
            smearing=f"Fermi-Dirac {self.electronic_temperature:g} K",
            dipole_correction=None if self.dipole == "off" else self.dipole,  # off: the keys of before
        )

    @property
    def relax_settings(self) -> dict:
        return {"fmax": self.fmax, "max_steps": self.max_steps, "optimizer": "BFGS"}

    def run(self, structure: Structure, task: Task, workdir: Path) -> EngineResult:
        """Run ``task``; retry per :attr:`retries`; raise :class:`EngineError` if all fail."""
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        attempts: list[str] = []
        current = structure
        for number, settings in enumerate([self.scf, *self.retries], 1):
            attempt_dir = workdir / f"attempt{number}"
            attempt_dir.mkdir(exist_ok=True)
            (attempt_dir / f"{PROJECT}.inp").write_text(self.input_text(current, task, settings))
            problem = self._execute(attempt_dir)
            # a run stopped by its wall time or by an error still leaves its last geometry
            out = parse_output(attempt_dir, current, task) if (attempt_dir / f"{PROJECT}.out").exists() else None
            if problem is None:
                problem = out.problem if out is not None else "CP2K wrote no output"
                if problem is None:
                    valence = {el.symbol: float(self.valence(el.symbol)) for el in structure.composition}
                    return EngineResult(energy=out.energies[-1], structure=out.structure, converged=True,
                                        n_steps=len(out.energies), max_force=out.max_force, forces=out.forces,
                                        energies=out.energies, attempts=attempts, files=out.files,
                                        valence=valence if "density" in out.files else {})
            nxt = self.retries[number - 1] if number <= len(self.retries) else None
            if nxt is not None and nxt.restart_from_last and out is not None and out.structure is not None:
                current = out.structure
            fix = f" → retry with {nxt.model_dump()}" if nxt else ""
            attempts.append(f"attempt {number}: {problem}{fix}")
        raise EngineError(f"CP2K failed after {len(attempts)} attempts: {problem}", attempts)

    def valence(self, symbol: str) -> int:
        """Valence electrons of ``symbol``'s GTH pseudopotential (Z_val for Bader charges)."""
        return basis_and_potential(symbol, self.basis, self.functional)[2]

    def calculator(self, workdir: Path):
        """An ASE calculator: every call is a CP2K static (with this engine's retries) in ``workdir``."""
        return EngineCalculator(self, workdir)

    def _execute(self, rundir: Path) -> str | None:
        """Run CP2K in ``rundir`` in a new process group; a failure reason or None."""
        exe = shutil.which(self.command)
        if exe is None:
            raise AnodescreenError(f"CP2K executable {self.command!r} not found (make cp2k installs it)", "engine")
        procs = self.mpi_procs or int(os.environ.get("ANODESCREEN_CORES", "0")) or os.cpu_count() or 1
        cmd = [exe, "-i", f"{PROJECT}.inp", "-o", f"{PROJECT}.out"]
        if procs > 1 and shutil.which("mpirun"):
            cmd = ["mpirun", "--oversubscribe", "-np", str(procs), *cmd]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
        # a SIGTERM (kill, scancel) must reach the except below, or the ranks outlive this process
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_exit) if main else None
        with open(rundir / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(cmd, cwd=rundir, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                    start_new_session=True)
            try:
                code = proc.wait(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                _stop_group(proc)
                return f"wall time of {self.timeout_s:g} s exceeded"
            except BaseException:
                _stop_group(proc)  # interrupted: leave no orphaned ranks behind
                raise
            finally:
                if main:
                    signal.signal(signal.SIGTERM, previous)
        if code != 0:
            tail = (rundir / "stderr.txt").read_text(errors="replace").strip().splitlines()[-1:] or [""]
            return f"CP2K exited with code {code} {_abort_message(rundir) or tail[0][:200]}".strip()
        return None

    def input_text(self, structure: Structure, task: Task, settings: Cp2kSettings | None = None) -> str:
        """The complete CP2K input for ``task`` on ``structure``."""
        settings = settings or self.scf
        kinds = {el.symbol: basis_and_potential(el.symbol, self.basis, self.functional)
                 for el in structure.composition}
        electrons = sum(kinds[s.specie.symbol][2] for s in structure)
        magmoms = structure.site_properties.get("magmom")
        uks = runs_polarized(self.spin, structure)
        run_type = {"static": "ENERGY_FORCE", "relax": "GEO_OPT", "relax-cell": "CELL_OPT"}[task]
        mesh = kpoint_mesh(structure, self.kspacing)
        fmax_au = self.fmax / _FORCE_AU
        lines = ["&GLOBAL", f"  PROJECT {PROJECT}", f"  RUN_TYPE {run_type}", "  PRINT_LEVEL LOW", "&END GLOBAL"]
        if task != "static":
            opt = "GEO_OPT" if task == "relax" else "CELL_OPT"
            lines += ["&MOTION", f"  &{opt}", "    OPTIMIZER BFGS", f"    MAX_ITER {self.max_steps}",
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
        if self.dipole == "on" or (self.dipole == "auto" and is_polar_slab(structure)):
            lines += ["    SURFACE_DIPOLE_CORRECTION T", "    SURF_DIP_DIR Z"]
        lines += ["    &MGRID", f"      CUTOFF {self.cutoff:g}", f"      REL_CUTOFF {self.rel_cutoff:g}",
                  "    &END MGRID", "    &QS", "      EPS_DEFAULT 1.0E-10", "    &END QS"]
        if mesh != (1, 1, 1):
            lines += ["    &KPOINTS", f"      SCHEME MONKHORST-PACK {mesh[0]} {mesh[1]} {mesh[2]}",
                      "      SYMMETRY F", "      FULL_GRID F", "    &END KPOINTS"]
        added = max(10, int(0.3 * electrons / 2))
        lines += ["    &SCF", "      SCF_GUESS ATOMIC", f"      EPS_SCF {self.eps_scf:.1e}",
                  f"      MAX_SCF {settings.max_scf}", f"      ADDED_MOS {added}",
                  "      &SMEAR ON", "        METHOD FERMI_DIRAC",
                  f"        ELECTRONIC_TEMPERATURE [K] {self.electronic_temperature:g}", "      &END SMEAR",
                  "      &DIAGONALIZATION", "        ALGORITHM STANDARD", "      &END DIAGONALIZATION",
                  "      &MIXING", "        METHOD BROYDEN_MIXING", f"        ALPHA {settings.mixing_alpha:g}",
                  f"        BETA {settings.mixing_beta:g}",
                  "        NBROYDEN 8", "      &END MIXING", "    &END SCF",
                  "    &XC", f"      &XC_FUNCTIONAL {self.functional}", "      &END XC_FUNCTIONAL"]
        if self.vdw:
            kind = "DFTD3" if self.vdw == "D3" else "DFTD3(BJ)"
            lines += ["      &VDW_POTENTIAL", "        POTENTIAL_TYPE PAIR_POTENTIAL", "        &PAIR_POTENTIAL",
                      f"          TYPE {kind}", f"          PARAMETER_FILE_NAME {DATA_DIR / 'dftd3.dat'}",
                      f"          REFERENCE_FUNCTIONAL {self.functional}", "        &END PAIR_POTENTIAL",
                      "      &END VDW_POTENTIAL"]
        lines += ["    &END XC"]
        if self.write_density and task == "static":
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


def _raise_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _stop_group(proc: subprocess.Popen) -> None:
    """Terminate this run's process group (mpirun and its ranks), then kill whatever lingers.

    Waiting for mpirun alone is not enough: its ranks can outlive it by seconds on a loaded node."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                proc.wait(timeout=0.2)  # reap mpirun, or give the group time
                os.killpg(proc.pid, 0)  # any member left?
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return
            time.sleep(0.2)


def _abort_message(rundir: Path) -> str:
    out = rundir / f"{PROJECT}.out"
    text = out.read_text(errors="replace") if out.exists() else ""
    match = re.findall(r"\*\s+\[ABORT\]\s+\*\s*\n\s*\*\s+\\___/\s+(.*?)\s*\*", text)
    return f"({match[-1].strip()})" if match else ""


@cache
def cp2k_version(command: str = "cp2k.psmp") -> str | None:
    """``2023.1`` for the installed CP2K, or None when it is absent."""
    exe = shutil.which(command)
    if exe is None:
        return None
    try:
        text = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"CP2K version (\S+)", text)
    return match.group(1) if match else None


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
    return np.array(rows, dtype=float) * _FORCE_AU if rows else None


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
