"""Run a campaign on this machine with jobflow's ``run_locally``, resumably.

Each calculation is one jobflow job whose result is written to the JobStore as soon as it
finishes, so a campaign killed at any point loses at most the calculations in flight;
running it again skips everything already stored and harvests the same rows. With
``workers`` > 1, calculations run in that many processes, each with its own store
connection and an equal share of the cores for torch (measured here: two 1-thread CHGNet
workers give 1.5× the throughput of one 2-thread process on a 32-atom cell).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from jobflow import run_locally

from anodescreen.db.stores import StoreConfig, Stores, open_stores
from anodescreen.engines.base import Engine
from anodescreen.workflows.calcs import CalculationMaker, computed_job, run_engine_batch
from anodescreen.core.plan import Plan
from anodescreen.workflows.funnel import GroupDecision
from anodescreen.workflows.harvest import HarvestReport, harvest
from anodescreen.workflows.spec import CampaignSpec
from anodescreen.workflows.stages import Stages, StageWork, pending

RUN_DIR = "anodescreen_runs"


@dataclass
class RunReport:
    """Counts of what a run did."""

    planned: int = 0
    reused: int = 0
    computed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    harvest: HarvestReport | None = None


@dataclass
class CampaignReport:
    """Each stage's run (one without a funnel; screens then DFT with one) and the funnel's decisions."""

    stages: list[tuple[str, RunReport]] = field(default_factory=list)
    funnel: list[GroupDecision] = field(default_factory=list)


def run_campaign(spec: CampaignSpec, stores: Stores, retry_failed: bool = False, **run_kwargs) -> CampaignReport:
    """Run ``spec`` stage by stage (:class:`~anodescreen.workflows.stages.Stages`): straight through
    its engine, or as a funnel (MLIP screens, then DFT on the chosen sites), then NEB/charges.

    ``run_kwargs`` go to :func:`execute`. The funnel's decisions are stored in the campaign document.
    """
    report = CampaignReport()
    stages = Stages(spec, stores)
    for index, name in enumerate(stages.names):
        work = stages.work(index, retry_failed)
        run = execute(work, stores, **run_kwargs)
        result = stages.finish(index, work.plan.quantities)
        run.harvest = result.harvest
        report.stages.append((name, run))
        report.funnel = result.funnel or report.funnel  # the last DFT stage's, most complete
    return report


def run_plan(plan: Plan, stores: Stores, retry_failed: bool = False, **run_kwargs) -> RunReport:
    """Compute every calculation of one campaign ``plan`` not yet stored, then harvest its rows."""
    Stages(plan.spec, stores).record()
    report = execute(pending(plan, stores, retry_failed), stores, **run_kwargs)
    report.harvest = harvest(plan.quantities, plan.spec.name, stores)
    return report


def execute(work: StageWork, stores: Stores, on_progress: Callable[[str, int, int], None] | None = None,
            root_dir: str | Path = RUN_DIR, workers: int = 1) -> RunReport:
    """Run the calculations ``work`` still needs (in ``workers`` processes); what it reused, computed and
    what failed."""
    todo = work.todo
    report = RunReport(planned=len(work.plan.calcs), reused=work.reused, failed=list(work.failed))
    if stores.config.type == "mongomock":
        workers = 1  # an in-memory store cannot be shared between processes
    if on_progress:
        on_progress(todo[0].label if todo else "", 0, len(todo))
    for done, (label, reason) in enumerate(_execute(todo, work.plan.engine, stores, workers, root_dir), 1):
        report.computed += 1
        if reason is not None:
            report.failed.append((label, reason))
        if on_progress:
            on_progress(label, done, len(todo))
    if on_progress:
        on_progress("harvesting", len(todo), len(todo))
    return report


def _run_one(request, engine: Engine, stores: Stores, root_dir) -> tuple[str, str | None]:
    """Run one calculation job into the store; (label, failure reason or None)."""
    logging.getLogger("jobflow").setLevel(logging.WARNING)
    calc = CalculationMaker(engine=engine).make(request)
    responses = run_locally(calc, store=stores.jobstore, log=False, root_dir=root_dir,
                            create_folders=False, ensure_success=False)
    out = responses.get(calc.uuid, {}).get(1)
    doc = out.output if out is not None else None
    if doc is None:
        return request.label, "job raised before finishing"
    return request.label, None if doc.state == "successful" else doc.reason


def _run_batch(requests: list, engine: Engine, stores: Stores, root_dir):
    """Relax ``requests`` together and store each record as its own job."""
    for request, doc in zip(requests, run_engine_batch(requests, engine), strict=True):
        calc = computed_job(doc)
        calc.name = f"{request.task} {request.label}"
        calc.metadata = {"calc_key": doc.calc_key, "label": request.label, "batched": len(requests)}
        run_locally(calc, store=stores.jobstore, log=False, root_dir=root_dir, create_folders=False,
                    ensure_success=False)
        yield request.label, None if doc.state == "successful" else doc.reason


def _execute(todo: list, engine: Engine, stores: Stores, workers: int, root_dir):
    """Yield (label, failure reason or None) for each calculation as it finishes; an engine that batches
    (``batch_size`` > 1) relaxes its relaxations together, in this process."""
    if getattr(engine, "batches", False):
        relax = [r for r in todo if r.task == "relax"]
        for start in range(0, len(relax), engine.batch_size):
            yield from _run_batch(relax[start:start + engine.batch_size], engine, stores, root_dir)
        todo = [r for r in todo if r.task != "relax"]
    if workers <= 1 or len(todo) <= 1:
        for request in todo:
            yield _run_one(request, engine, stores, root_dir)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")  # no inherited store connections
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(stores.config, threads)) as pool:
        futures = [pool.submit(_worker_run, request, engine.model_dump(), root_dir) for request in todo]
        for future in as_completed(futures):
            yield future.result()


_WORKER: dict = {}


def _start_worker(config: StoreConfig, threads: int) -> None:
    import warnings

    import torch

    warnings.filterwarnings("ignore")
    torch.set_num_threads(threads)
    _WORKER["stores"], _WORKER["cores"] = open_stores(config), threads


def _worker_run(request, engine_fields: dict, root_dir) -> tuple[str, str | None]:
    from anodescreen.engines import engine_from_fields

    key = repr(sorted(engine_fields.items()))
    if key not in _WORKER:
        _WORKER[key] = engine_from_fields(engine_fields).with_cores(_WORKER["cores"])
    engine = _WORKER[key]
    return _run_one(request, engine, _WORKER["stores"], root_dir)
