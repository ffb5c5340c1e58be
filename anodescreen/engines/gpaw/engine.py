"""The GPAW engine: settings, level of theory, and a run under ``mpirun`` with retries.

Each calculation runs :mod:`.worker` as ``mpirun -np N python -m anodescreen.engines.gpaw.worker
<rundir>`` in its own process group (a wall time or a kill stops every rank), reading
``input.json`` and writing ``output.json`` and GPAW's log ``gpaw.txt``. Plane waves at ``cutoff``
eV, PBE, the PAW setups of the ``gpaw-data`` package (nothing is downloaded), a Γ-centred k-mesh
from ``kspacing`` (one k-point across vacuum), Fermi–Dirac smearing. Spin: ``auto`` runs
spin-polarised from the structure's initial moments (atoms, dimers, SAC metals, magnetic metals).
Relaxations use ASE's BFGS (positions: :func:`~anodescreen.engines.batch.relax_together`, with the
layer criterion on layered slabs; cell: BFGS on a FrechetCellFilter). GPAW's energies are relative
to its reference atoms: only differences at one level of theory mean anything, as everywhere here.
"""

from __future__ import annotations

import json
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.analysis.geometry import is_layered
from anodescreen.engines.base import (
    LAYER_FMAX,
    EngineError,
    EngineModel,
    EngineResult,
    LevelOfTheory,
    Task,
    kpoint_mesh,
    runs_polarized,
    spin_polarized,
)
from anodescreen.engines.process import run_group, stderr_tail, with_mpi
from anodescreen.errors import AnodescreenError
from anodescreen.structures.data import spin_ladder


class GpawSettings(BaseModel):
    """SCF numerics of one attempt (never the level of theory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    maxiter: int = Field(333, gt=0, description="SCF iterations per ionic step")
    mixer_beta: float | None = Field(None, gt=0, le=1, description="density mixing; None: GPAW's default")


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


class GpawEngine(EngineModel):
    """Real GPAW runs with a stated level of theory."""

    name: Literal["gpaw"] = "gpaw"
    functional: Literal["PBE"] = "PBE"
    cutoff: float = Field(500.0, gt=0, description="plane-wave cutoff (eV)")
    kspacing: float = Field(0.25, gt=0, description="k-point spacing, |b_i| with 2π (1/Å); Γ-centred")
    smearing: float = Field(0.05, gt=0, description="Fermi–Dirac width (eV)")
    spin: Literal["auto", "on", "off"] = Field(
        "auto", description="auto: spin-polarised when the structure carries initial magnetic moments")
    fmax: float = Field(0.05, gt=0, description="force convergence (eV/Å)")
    layer_fmax: float = Field(LAYER_FMAX, gt=0, description="layered slabs: also every layer's net normal force "
                                                            "per atom below this (eV/Å)")
    max_steps: int = Field(200, gt=0, description="ionic steps per attempt")
    spin_states: bool = Field(True, description="a single magnetic metal atom is computed from each state of its "
                                                "spin ladder (engines.spin) and the lowest kept")
    scf: GpawSettings = Field(default_factory=GpawSettings, description="settings of the first attempt")
    retries: list[GpawSettings] = Field(
        default_factory=lambda: [GpawSettings(maxiter=500, mixer_beta=0.02)],
        description="settings of each further attempt after a failed SCF")
    mpi_procs: int | None = Field(None, ge=1, description="MPI ranks; default all cores (a worker: its share)")
    timeout_s: float | None = Field(None, gt=0, description="wall time per attempt")

    def level_of_theory(self) -> LevelOfTheory:
        return LevelOfTheory(
            engine="gpaw", code="gpaw", code_version=_version("gpaw"), method=self.functional,
            basis=f"plane waves, PAW setups (gpaw-data {_version('gpaw-data')})",
            cutoff=f"{self.cutoff:g} eV", kpoints=f"Γ-centred, spacing {self.kspacing:g} 1/Å; 1 across vacuum",
            spin_polarized=spin_polarized(self.spin), smearing=f"Fermi-Dirac {self.smearing:g} eV")

    @property
    def relax_settings(self) -> dict:
        return {"fmax": self.fmax, "max_steps": self.max_steps, "optimizer": "BFGS"}

    def settings_for(self, structure: Structure, task: str) -> dict:
        """A layered slab's relaxation also converges its layers (``layer_fmax``); a single magnetic metal
        is computed in each state of its spin ladder (``spin_states``)."""
        settings = dict(self.relax_settings)
        if task == "relax" and is_layered(structure):
            settings["layer_fmax"] = self.layer_fmax
        ladder = spin_ladder(structure) if self.spin_states and self.spin != "off" else None
        if ladder is not None:
            settings["spin_states"] = ladder[1]
        return settings

    def job(self, structure: Structure, task: Task, settings: GpawSettings) -> dict:
        """What the worker runs: the structure, the task and every setting it needs."""
        return {"structure": structure.as_dict(), "task": task, "functional": self.functional,
                "cutoff": self.cutoff, "kpts": list(kpoint_mesh(structure, self.kspacing)),
                "smearing": self.smearing, "spinpol": runs_polarized(self.spin, structure),
                "fmax": self.fmax, "max_steps": self.max_steps,
                "layer_fmax": self.settings_for(structure, task).get("layer_fmax"), **settings.model_dump()}

    def run(self, structure: Structure, task: Task, workdir: Path) -> EngineResult:
        """Run ``task``; retry a failed SCF per :attr:`retries` from the last geometry; raise
        :class:`EngineError` if every attempt fails."""
        if _version("gpaw") is None:
            raise AnodescreenError("GPAW is not installed (make install-gpaw builds it)", "engine")
        workdir = Path(workdir)
        attempts: list[str] = []
        current = structure
        for number, settings in enumerate([self.scf, *self.retries], 1):
            rundir = workdir / f"attempt{number}"
            rundir.mkdir(parents=True, exist_ok=True)
            (rundir / "input.json").write_text(json.dumps(self.job(current, task, settings)))
            (rundir / "output.json").unlink(missing_ok=True)
            cmd = with_mpi([sys.executable, "-m", "anodescreen.engines.gpaw.worker", str(rundir)],
                           self.mpi_procs or os.cpu_count() or 1)
            code = run_group(cmd, rundir, self.timeout_s, stdout=rundir / "stdout.txt",
                             env={"GPAW_MPI_BACKEND": "cgpaw"})  # GPAW's own MPI under mpirun
            out = json.loads((rundir / "output.json").read_text()) if (rundir / "output.json").exists() else None
            if out is not None and "error" not in out:
                result = _result(out, structure)
                result.attempts = attempts
                return result
            problem = (code if isinstance(code, str) else out["error"] if out else
                       f"GPAW exited with code {code} {stderr_tail(rundir)}".strip())
            if out is not None and out.get("structure"):
                current = _structure(out["structure"], structure)
            nxt = self.retries[number - 1] if number <= len(self.retries) else None
            attempts.append(f"attempt {number}: {problem}" + (f" → retry with {nxt.model_dump()}" if nxt else ""))
        raise EngineError(f"GPAW failed after {len(attempts)} attempts: {problem}", attempts)

    def with_cores(self, cores: int) -> GpawEngine:
        """MPI ranks = ``cores`` unless ``mpi_procs`` was set."""
        return self if self.mpi_procs else self.model_copy(update={"mpi_procs": cores})


def _structure(cart: dict, start: Structure) -> Structure:
    """``start`` (species, site properties) at the worker's lattice and Cartesian positions."""
    return Structure(cart["lattice"], start.species, cart["positions"], coords_are_cartesian=True,
                     site_properties=start.site_properties, properties=start.properties)


def _result(out: dict, start: Structure) -> EngineResult:
    return EngineResult(energy=out["energy"], structure=_structure(out["structure"], start),
                        converged=out["converged"], n_steps=out["n_steps"], max_force=out["max_force"],
                        forces=out["forces"], energies=out["energies"], code_version=out.get("version"),
                        magnetic_moments=out.get("magmoms"), total_magnetization=out.get("magmom"))
