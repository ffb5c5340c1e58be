"""One GPAW calculation, run by :class:`~anodescreen.engines.gpaw.GpawEngine` under mpirun.

    python -m anodescreen.engines.gpaw.worker RUNDIR

Reads ``RUNDIR/input.json`` (:meth:`GpawEngine.job`), writes ``RUNDIR/output.json`` from rank 0:
energy (eV), forces (eV/Å), final lattice and Cartesian positions, the energy of every ionic step,
steps, convergence, and when spin-polarised the total and site-projected (PAW sphere) moments (μB);
or ``{"error": ..., "structure": <last geometry>}`` when the SCF fails (``{"error": ...}`` on any
other exception).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def _geometry(atoms) -> dict:
    return {"lattice": atoms.cell.array.tolist(), "positions": atoms.positions.tolist()}


def run(job: dict, rundir: Path) -> dict:
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS
    from gpaw import PW, FermiDirac, KohnShamConvergenceError
    from gpaw.calculator import GPAW  # GPAW 26.7's new code fails on 2 ranks with one k-point unpolarised
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    from anodescreen.engines.batch import relax_together

    structure = Structure.from_dict(job["structure"])
    atoms = AseAtomsAdaptor.get_atoms(structure)
    moments = structure.site_properties.get("magmom") if job["spinpol"] else None
    atoms.set_initial_magnetic_moments(np.asarray(moments if moments is not None else [0.0] * len(atoms), float))
    mixer = {}
    if job["mixer_beta"] is not None:
        from gpaw import Mixer, MixerSum

        mixer = {"mixer": (MixerSum if job["spinpol"] else Mixer)(beta=job["mixer_beta"], nmaxold=5, weight=50.0)}
    atoms.calc = GPAW(mode=PW(job["cutoff"]), xc=job["functional"], kpts={"size": job["kpts"], "gamma": True},
                      occupations=FermiDirac(job["smearing"]), spinpol=job["spinpol"], maxiter=job["maxiter"],
                      txt=str(rundir / "gpaw.txt"), **mixer)
    energies: list[float] = []

    def evaluate(structures: list) -> list[tuple[float, np.ndarray]]:
        atoms.positions = structures[0].cart_coords
        energy, forces = float(atoms.get_potential_energy()), atoms.get_forces()
        energies.append(energy)
        return [(energy, forces)]

    try:
        if job["task"] == "static":
            energy, forces = evaluate([structure])[0]
            steps, converged = 1, True
        elif job["task"] == "relax":
            (r,) = relax_together([structure], evaluate, job["fmax"], job["max_steps"], job["layer_fmax"])
            atoms.positions = r["structure"].cart_coords
            energy, forces, steps, converged = r["energy"], r["forces"], r["n_steps"], r["converged"]
        else:  # relax-cell
            opt = BFGS(FrechetCellFilter(atoms), logfile=str(rundir / "opt.log"))
            opt.attach(lambda: energies.append(float(atoms.get_potential_energy())))
            converged = bool(opt.run(fmax=job["fmax"], steps=job["max_steps"]))
            energy, forces, steps = float(atoms.get_potential_energy()), atoms.get_forces(), opt.nsteps + 1
    except KohnShamConvergenceError as exc:
        return {"error": f"SCF not converged in {job['maxiter']} iterations ({exc})", "structure": _geometry(atoms)}
    from importlib.metadata import version

    out = {"energy": energy, "forces": np.asarray(forces).tolist(), "structure": _geometry(atoms),
           "energies": energies, "n_steps": steps, "converged": converged,
           "max_force": float(np.linalg.norm(forces, axis=1).max()), "version": version("gpaw")}
    if job["spinpol"]:
        out["magmom"] = float(atoms.calc.get_magnetic_moment())
        out["magmoms"] = [float(m) for m in atoms.calc.get_magnetic_moments()]
    return out


def main(rundir: str) -> None:
    from gpaw.mpi import world

    folder = Path(rundir)
    try:
        out = run(json.loads((folder / "input.json").read_text()), folder)
    except Exception as exc:  # the reason, not MPI's abort message, is what the engine reports
        if world.rank == 0:
            (folder / "output.json").write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        raise
    if world.rank == 0:
        (folder / "output.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
