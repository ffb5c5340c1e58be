"""Run a campaign on this machine with jobflow's ``run_locally``, resumably.

Calculations run one job at a time and each result is written to the JobStore as soon as
it finishes, so a campaign killed at any point loses at most the calculation in flight;
running it again skips everything already stored and harvests the same rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jobflow import run_locally

from anodescreen.db.stores import Stores
from anodescreen.workflows.calcs import CalculationMaker
from anodescreen.workflows.harvest import HarvestReport, harvest, stored_calcs
from anodescreen.workflows.plan import Plan

RUN_DIR = "anodescreen_runs"


@dataclass
class RunReport:
    """Counts of what a run did."""

    planned: int = 0
    reused: int = 0
    computed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    harvest: HarvestReport | None = None


def run_plan(
    plan: Plan,
    stores: Stores,
    retry_failed: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
    root_dir: str | Path = RUN_DIR,
) -> RunReport:
    """Compute every calculation of ``plan`` not yet stored, then harvest its rows."""
    stores.campaigns.update(
        [{"name": plan.spec.name, "spec": plan.spec.model_dump(mode="json")}], key="name"
    )
    known = stored_calcs(stores, list(plan.calcs))
    report = RunReport(planned=len(plan.calcs))
    todo = []
    for key, request in plan.calcs.items():
        doc = known.get(key)
        if doc and (doc[0].state == "successful" or not retry_failed):
            report.reused += 1
            if doc[0].state == "failed":
                report.failed.append((request.label, doc[0].reason or "unknown"))
        else:
            todo.append(request)
    maker = CalculationMaker(engine=plan.engine)
    logging.getLogger("jobflow").setLevel(logging.WARNING)
    for done, request in enumerate(todo):
        if on_progress:
            on_progress(request.label, done, len(todo))
        calc = maker.make(request)
        responses = run_locally(calc, store=stores.jobstore, log=False, root_dir=root_dir,
                                create_folders=False, ensure_success=False)
        out = responses.get(calc.uuid, {}).get(1)
        doc = out.output if out is not None else None
        report.computed += 1
        if doc is None or doc.state != "successful":
            report.failed.append((request.label, doc.reason if doc else "job raised before finishing"))
    if on_progress:
        on_progress("harvesting", len(todo), len(todo))
    report.harvest = harvest(plan, stores)
    return report
