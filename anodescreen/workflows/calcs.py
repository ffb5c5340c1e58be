"""One calculation: its request, its identity (calc_key) and the jobflow job that runs it.

A calculation is identified by what decides its result: the input structure, the task,
the level of theory and the relaxation settings. Equal keys are the same calculation,
so a stored successful result is reused instead of recomputed, across campaigns.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from jobflow import Maker, job
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.db.schema import CalcDoc, stable_hash
from anodescreen.engines import Engine, EngineError, MLIPEngine, Task

#: decimals of Cartesian coordinates (Å) that enter a calc_key
KEY_DECIMALS = 6


def structure_fingerprint(structure: Structure) -> list:
    """Canonical, rounded description of a structure for hashing."""
    magmoms = structure.site_properties.get("magmom", [0.0] * len(structure))
    return [
        np.round(structure.lattice.matrix, KEY_DECIMALS).tolist(),
        [s.species_string for s in structure],
        np.round(structure.cart_coords, KEY_DECIMALS).tolist(),
        [round(float(m), 3) for m in magmoms],
    ]


class CalcRequest(BaseModel):
    """A calculation a campaign needs: an engine task, or a NEB / charge analysis built on engine runs."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    label: str
    task: Task | Literal["neb", "charges"]
    structure: Structure
    reference: bool = False
    final: Structure | None = Field(None, description="neb: the final endpoint (structure is the initial one)")
    settings: dict = Field(default_factory=dict, description="neb: NebSettings; charges: the SAC metal")

    def key(self, engine: Engine) -> str:
        """A reference state (bulk metal, atom, elemental ground state) is one per level of theory:
        its key leaves out the relaxation settings, so every campaign at that theory reuses it."""
        lot = engine.level_of_theory()
        settings = {} if self.reference else engine.relax_settings
        payload = [structure_fingerprint(self.structure), self.task, lot.key, settings]
        if self.final is not None or self.settings:
            payload += [structure_fingerprint(self.final) if self.final else None, self.settings]
        return stable_hash(payload)


def run_engine(request: CalcRequest, engine: Engine, workdir: Path | None = None) -> CalcDoc:
    """Run one calculation in ``workdir/<calc_key>``; a failure is returned as a failed record."""
    lot = engine.level_of_theory()
    common = {
        "calc_key": request.key(engine),
        "label": request.label,
        "task": request.task,
        "reference": request.reference,
        "n_sites": len(request.structure),
        "formula": request.structure.composition.formula.replace(" ", ""),
        "input_structure": request.structure.as_dict(),
        "level_of_theory": lot,
        "lot_key": lot.key,
        "relax_settings": engine.relax_settings,
    }
    start = time.perf_counter()
    folder = (workdir or Path.cwd()) / common["calc_key"]
    try:
        if request.task in ("neb", "charges"):
            fields = (_neb if request.task == "neb" else _charges)(request, engine, folder)
            _record_version(common, fields.pop("code_version", None))
            state = "successful" if fields.pop("converged_all") else "failed"
            reason = None if state == "successful" else "NEB did not converge within max_steps"
            return CalcDoc(state=state, reason=reason, elapsed_s=time.perf_counter() - start, **fields, **common)
        result = engine.run(request.structure, request.task, folder)
    except EngineError as exc:  # retries exhausted: record what was tried
        return CalcDoc(state="failed", reason=str(exc), attempts=exc.attempts,
                       elapsed_s=time.perf_counter() - start, **common)
    except Exception as exc:  # the engine's failure is data: record it, carry on
        last = traceback.extract_tb(exc.__traceback__)[-1]
        reason = f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"
        return CalcDoc(state="failed", reason=reason, elapsed_s=time.perf_counter() - start, **common)
    elapsed = time.perf_counter() - start
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
    }
    if not np.isfinite(result.energy):
        return CalcDoc(state="failed", reason=f"non-finite energy {result.energy}", **fields, **common)
    if not result.converged:
        reason = f"not converged after {result.n_steps} steps (max force {result.max_force:.3f} eV/Å)"
        return CalcDoc(state="failed", reason=reason, **fields, **common)
    return CalcDoc(state="successful", **fields, **common)


def _record_version(common: dict, version: str | None) -> None:
    """The code version an output reports (e.g. VASP's), in the stored level of theory but not its key."""
    if version:
        common["level_of_theory"] = common["level_of_theory"].model_copy(update={"code_version": version})


def _neb(request: CalcRequest, engine: Engine, folder: Path) -> dict:
    """Climbing-image NEB on ``engine``, after relaxing the endpoints unless the plan did."""
    from anodescreen.workflows.neb import NebSettings, engine_neb, relaxed_endpoints
    from anodescreen.workflows.plan import RELAXED_ENDPOINTS

    settings = dict(request.settings)
    energies = settings.pop(RELAXED_ENDPOINTS, None)
    if energies:
        initial, final = request.structure, request.final
    else:
        (initial, final), energies = relaxed_endpoints(engine, request.structure, request.final, folder)
    outcome = engine_neb(engine, initial, final, energies, NebSettings(**settings), folder / "neb")
    saddle = outcome.barrier.saddle_image
    details = {**asdict(outcome.barrier), "images": [im.as_dict() for im in outcome.images],
               "image_energies": outcome.energies, "force_calls": outcome.force_calls, "method": outcome.method}
    return {"energy": outcome.energies[saddle], "converged": outcome.converged, "converged_all": outcome.converged,
            "n_steps": outcome.force_calls, "structure": outcome.images[saddle].as_dict(),
            "energies": outcome.energies, "details": details, "code_version": outcome.code_version}


def _charges(request: CalcRequest, engine: Engine, folder: Path) -> dict:
    """Bader charges of every atom and Δρ(z) of the adsorbate (flagged by the 'adsorbate' site property)."""
    from anodescreen.workflows.charges import charge_analysis

    flags = request.structure.site_properties.get("adsorbate") or []
    adsorbate = [i for i, flag in enumerate(flags) if flag]
    analysis = charge_analysis(engine, request.structure, adsorbate, folder)
    charges = analysis.charges
    metal = request.settings.get("metal")
    metal_index = [i for i, s in enumerate(request.structure) if s.specie.symbol == metal] if metal else []
    details = {"symbols": charges.symbols, "charges": charges.charges, "electrons": charges.electrons,
               "valence": charges.valence, "vacuum_electrons": charges.vacuum_electrons,
               "total_electrons": charges.total_electrons, "method": charges.method, "adsorbate": adsorbate,
               "transfer": analysis.transfer,
               "metal_charge": charges.transfer(metal_index) if len(metal_index) == 1 else None,
               "difference": asdict(analysis.difference)}
    return {"converged": True, "converged_all": True, "structure": request.structure.as_dict(),
            "files": analysis.files, "details": details, "code_version": analysis.code_version}


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
