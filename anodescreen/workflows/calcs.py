"""One calculation: its request, its identity (calc_key) and the jobflow job that runs it.

A calculation is identified by what decides its result: the input structure, the task,
the level of theory and the relaxation settings. Equal keys are the same calculation,
so a stored successful result is reused instead of recomputed, across campaigns.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from jobflow import Maker, job
from pydantic import BaseModel, ConfigDict
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
    """A calculation a campaign needs."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    label: str
    task: Task
    structure: Structure
    reference: bool = False

    def key(self, engine: Engine) -> str:
        """A reference state (bulk metal, atom, elemental ground state) is one per level of theory:
        its key leaves out the relaxation settings, so every campaign at that theory reuses it."""
        lot = engine.level_of_theory()
        settings = {} if self.reference else engine.relax_settings
        return stable_hash([structure_fingerprint(self.structure), self.task, lot.key, settings])


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
    try:
        result = engine.run(request.structure, request.task, (workdir or Path.cwd()) / common["calc_key"])
    except EngineError as exc:  # retries exhausted: record what was tried
        return CalcDoc(state="failed", reason=str(exc), attempts=exc.attempts,
                       elapsed_s=time.perf_counter() - start, **common)
    except Exception as exc:  # the engine's failure is data: record it, carry on
        last = traceback.extract_tb(exc.__traceback__)[-1]
        reason = f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"
        return CalcDoc(state="failed", reason=reason, elapsed_s=time.perf_counter() - start, **common)
    elapsed = time.perf_counter() - start
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
