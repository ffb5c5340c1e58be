"""The CP2K engine: its settings and level of theory, and a run with retries.

Writes the CP2K input itself (:mod:`.inputs`; atomate2's CP2K input sets need pymatgen's
hashed basis library, and its custodian runner calls ``killall``), runs it (:mod:`.process`)
and parses the output (:mod:`.outputs`). A failed SCF or an unfinished relaxation is
retried per :attr:`Cp2kEngine.retries`, which changes only numerics (mixing, SCF steps),
never the level of theory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field
from pymatgen.core import Structure

from anodescreen.engines.base import EngineError, EngineModel, EngineResult, LevelOfTheory, Task, spin_polarized
from anodescreen.engines.cp2k.inputs import PROJECT, Cp2kSettings, basis_and_potential, input_text
from anodescreen.engines.cp2k.outputs import parse_output
from anodescreen.engines.cp2k.process import cp2k_version, run_cp2k


class Cp2kEngine(EngineModel):
    """Real CP2K runs with a stated level of theory."""

    name: Literal["cp2k"] = "cp2k"
    has_density: ClassVar[bool] = True
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
    mpi_procs: int | None = Field(None, ge=1, description="MPI ranks; default all cores (a worker: its share)")
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
            problem = run_cp2k(self.command, attempt_dir, self.mpi_procs or os.cpu_count() or 1, self.timeout_s)
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

    def input_text(self, structure: Structure, task: Task, settings: Cp2kSettings | None = None) -> str:
        """The complete CP2K input for ``task`` on ``structure``."""
        return input_text(self, structure, task, settings)

    def with_cores(self, cores: int) -> Cp2kEngine:
        """MPI ranks = ``cores`` unless ``mpi_procs`` was set."""
        return self if self.mpi_procs else self.model_copy(update={"mpi_procs": cores})
