"""Spin states are data: a magnetic single-atom site is computed from each plausible initial moment.

The metal's ladder (:func:`~anodescreen.structures.data.spin_ladder`: high to low spin in steps of
2 μB) is run one state after another; the lowest converged energy is the result, and every state
tried is recorded with its energy and final moments, and said so when the cell's total moment
ended further than :data:`MOMENT_TOL` from where it started (the metal's moment plus the others',
e.g. an adsorbed alkali's 1 μB) — it converged to another state.
"""

from __future__ import annotations

from pathlib import Path

from pymatgen.core import Structure

from anodescreen.engines.base import Engine, EngineError, EngineResult, Task
from anodescreen.structures.data import spin_ladder

#: μB: a state whose cell moment ends further than this from its start converged to another one
MOMENT_TOL = 0.5


def lowest_spin_state(engine: Engine, structure: Structure, task: Task, workdir: Path,
                      moments: list[float]) -> EngineResult:
    """``task`` from each initial moment of the metal in ``moments`` (in ``workdir/spin-<m>``); the
    lowest converged result, its ``spin_states`` listing every state tried."""
    index = spin_ladder(structure)[0]
    tried, done = [], []
    for moment in moments:
        start = structure.copy()
        start.add_site_property("magmom", [moment if i == index else m for i, m in
                                           enumerate(structure.site_properties["magmom"])])
        try:
            result = engine.run(start, task, Path(workdir) / f"spin-{moment:g}")
        except EngineError as exc:
            tried.append({"initial": moment, "state": "failed", "reason": str(exc)})
            continue
        total, start_total = result.total_magnetization or 0.0, sum(start.site_properties["magmom"])
        entry = {"initial": moment, "state": "successful" if result.converged else "not converged",
                 "energy": result.energy, "initial_total": round(start_total, 3), "total_moment": round(total, 3),
                 "metal_moment": round(result.magnetic_moments[index], 3) if result.magnetic_moments else 0.0}
        if abs(abs(total) - start_total) > MOMENT_TOL:
            entry["note"] = (f"started at {moment:g} μB on {structure[index].specie} ({start_total:g} in the cell), "
                             f"converged to {total:.2f} μB in the cell")
        tried.append(entry)
        if result.converged:
            done.append(result)
    if not done:
        raise EngineError(f"no spin state of {structure[index].specie} converged ({len(tried)} tried)",
                          [f"{t['initial']:g} μB: {t.get('reason') or t['state']}" for t in tried])
    best = min(done, key=lambda r: r.energy)
    return best.model_copy(update={"spin_states": tried})
