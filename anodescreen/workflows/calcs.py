"""Run one calculation request (:class:`~anodescreen.core.plan.CalcRequest`): the engine's own tasks,
or a task a property adds (NEB, charges); and the jobflow job that runs it."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from jobflow import Maker, job

from anodescreen.analysis.geometry import layer_mean_force, layer_normal_forces, vacuum_axes
from anodescreen.core.plan import CalcRequest
from anodescreen.db.schema import CalcDoc
from anodescreen.engines import Engine, EngineError, MLIPEngine
from anodescreen.engines.spin import lowest_spin_state
from anodescreen.properties import TASKS


def _common(request: CalcRequest, engine: Engine) -> dict:
    """The fields of a calculation's record that its request and engine decide."""
    lot = engine.level_of_theory()
    return {
        "calc_key": request.key(engine),
        "label": request.label,
        "task": request.task,
        "reference": request.reference,
        "n_sites": len(request.structure),
        "formula": request.structure.composition.formula.replace(" ", ""),
        "input_structure": request.structure.as_dict(),
        "started_from": request.started_from,
        "level_of_theory": lot,
        "lot_key": lot.key,
        "relax_settings": engine.settings_for(request.structure, request.task),
    }


def run_engine(request: CalcRequest, engine: Engine, workdir: Path | None = None) -> CalcDoc:
    """Run one calculation in ``workdir/<calc_key>``; a failure is returned as a failed record."""
    common = _common(request, engine)
    start = time.perf_counter()
    folder = (workdir or Path.cwd()) / common["calc_key"]
    try:
        if request.task in TASKS:
            fields = TASKS[request.task](request, engine, folder)
            _record_version(common, fields.pop("code_version", None))
            reason = fields.pop("failure", None)
            return CalcDoc(state="failed" if reason else "successful", reason=reason,
                           elapsed_s=time.perf_counter() - start, **fields, **common)
        moments = engine.settings_for(request.structure, request.task).get("spin_states")
        result = (lowest_spin_state(engine, request.structure, request.task, folder, moments) if moments
                  else engine.run(request.structure, request.task, folder))
    except Exception as exc:  # the engine's failure is data: record it, carry on
        return _failed(common, exc, time.perf_counter() - start)
    return _result_doc(request, result, common, time.perf_counter() - start)


def run_engine_batch(requests: list[CalcRequest], engine: MLIPEngine) -> list[CalcDoc]:
    """Relax ``requests`` together (:meth:`MLIPEngine.run_batch`); each record gets its share of the wall time."""
    commons = [_common(r, engine) for r in requests]
    start = time.perf_counter()
    try:
        results = engine.run_batch([r.structure for r in requests])
    except Exception as exc:
        elapsed = (time.perf_counter() - start) / len(requests)
        return [_failed(common, exc, elapsed) for common in commons]
    elapsed = (time.perf_counter() - start) / len(requests)
    return [_result_doc(r, result, common, elapsed) for r, result, common in zip(requests, results, commons,
                                                                                  strict=True)]


def _failed(common: dict, exc: Exception, elapsed: float) -> CalcDoc:
    if isinstance(exc, EngineError):  # retries exhausted: record what was tried
        return CalcDoc(state="failed", reason=str(exc), attempts=exc.attempts, elapsed_s=elapsed, **common)
    last = traceback.extract_tb(exc.__traceback__)[-1]
    reason = f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"
    return CalcDoc(state="failed", reason=reason, elapsed_s=elapsed, **common)


def _result_doc(request: CalcRequest, result, common: dict, elapsed: float) -> CalcDoc:
    _record_version(common, result.code_version)
    fields = {
        "energy": result.energy,
        "converged": result.converged,
        "n_steps": result.n_steps,
        "max_force": result.max_force,
        "structure": result.structure.as_dict(),
        "energies": result.energies,
        "attempts": result.attempts,
        "files": result.files,
        "elapsed_s": elapsed,
        "magnetic_moments": result.magnetic_moments,
        "total_magnetization": result.total_magnetization,
        "spin_states": result.spin_states,
        **_convergence(request, result),
    }
    if not np.isfinite(result.energy):
        return CalcDoc(state="failed", reason=f"non-finite energy {result.energy}", **fields, **common)
    if not result.converged:
        reason = f"not converged after {result.n_steps} steps (max force {result.max_force:.3f} eV/Å"
        if "layer_fmax" in common["relax_settings"] and result.forces is not None:
            reason += (f"; {layer_mean_force(result.structure, result.forces):.4f} eV/Å per atom on a layer, "
                       f"layer_fmax {common['relax_settings']['layer_fmax']:g}")
        reason += ")"
        return CalcDoc(state="failed", reason=reason, **fields, **common)
    return CalcDoc(state="successful", **fields, **common)


def _convergence(request: CalcRequest, result) -> dict:
    """How a relaxation ended, and for a slab the net normal force on each layer (which a per-atom
    force criterion can leave large: every atom of a sheet carries 1/N of it)."""
    if request.task == "static":
        return {}
    out = {"stopped_on": "fmax" if result.converged else "max_steps"}
    if result.forces is not None and vacuum_axes(result.structure)[2]:
        out["layer_forces"] = layer_normal_forces(result.structure, result.forces)
    return out


def _record_version(common: dict, version: str | None) -> None:
    """The code version an output reports (e.g. VASP's), in the stored level of theory but not its key."""
    if version:
        common["level_of_theory"] = common["level_of_theory"].model_copy(update={"code_version": version})


@dataclass
class CalculationMaker(Maker):
    """Maker of the job that runs one :class:`CalcRequest` on an engine.

    The job's output is a :class:`~anodescreen.db.schema.CalcDoc`; the per-step energies
    go to the JobStore's ``data`` store.
    """

    engine: Engine = field(default_factory=MLIPEngine)
    name: str = "calculation"

    def make(self, request: CalcRequest):
        calc = _calculation_job(request, self.engine)
        calc.name = f"{request.task} {request.label}"
        calc.metadata = {"calc_key": request.key(self.engine), "label": request.label}
        return calc


@job(data="energies")
def _calculation_job(request: CalcRequest, engine: Engine) -> CalcDoc:
    return run_engine(request, engine, Path.cwd())


@job(data="energies")
def computed_job(doc: CalcDoc) -> CalcDoc:
    """A calculation run outside a job (a batched relaxation), stored like any other."""
    return doc
