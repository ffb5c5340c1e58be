"""A campaign as one jobflow Flow that grows stage by stage, for FireWorks and jobflow-remote.

Each stage (:class:`~anodescreen.workflows.stages.Stages`) is one job per calculation it
still needs plus a stage job that depends on all of them. The stage job opens the
campaign's store, harvests the stage's rows (its quantities travel with it: the plan is
built once, when the stage is added), records the funnel's decisions after its DFT stage,
and adds the next stage to the running flow (a jobflow ``Response(addition=...)``), so
funnel campaigns and NEB/charge follow-ups run on a cluster the way they run locally. The
stage job needs the store; calculation jobs only write their outputs through the JobStore.

``manager`` holds per-role job configs (``{"calc": {...}, "stage": {...}}``), e.g.
jobflow-remote workers; they are set on every stage's jobs, including those added later.
"""

from __future__ import annotations

from jobflow import Flow, Response, job

from anodescreen.core.plan import Quantity
from anodescreen.db.stores import StoreConfig, Stores, open_stores
from anodescreen.errors import AnodescreenError
from anodescreen.launchers.queues import plain_word
from anodescreen.workflows.calcs import CalculationMaker
from anodescreen.workflows.spec import CampaignSpec
from anodescreen.workflows.stages import Stages


def campaign_flow(spec: CampaignSpec, stores: Stores, retry_failed: bool = False,
                  manager: dict[str, dict] | None = None) -> Flow:
    """The campaign's first stage as a Flow; each stage job adds the next one when it runs."""
    if stores.config.type == "mongomock":
        raise AnodescreenError("an in-memory store cannot be shared with workers in other processes: use an "
                               "embedded or mongodb store config", "store")
    flow = stage_flow(Stages(spec, stores), 0, retry_failed, manager or {})
    flow.metadata = {"anodescreen_campaign": spec.name}
    return flow


def stage_flow(stages: Stages, index: int, retry_failed: bool, manager: dict) -> Flow:
    """Stage ``index``: its calculations not yet stored (or failed, with ``retry_failed``) and its stage job."""
    work = stages.work(index, retry_failed)
    maker = CalculationMaker(engine=work.plan.engine)
    calcs = [maker.make(request) for request in work.todo]
    final = finish_stage(stages.spec.model_dump(mode="json"), stages.stores.config.model_dump(), index,
                         retry_failed, manager, [q.as_data() for q in work.plan.quantities],
                         [c.output.calc_key for c in calcs])
    final.name = f"harvest {stages.spec.name} {work.name}"
    for role, jobs in (("calc", calcs), ("stage", [final])):
        for j in jobs:
            j.name = plain_word(j.name)  # launchers write job names into batch scripts unquoted
            j.config.manager_config = dict(manager.get(role, {}))
    final.config.pass_manager_config = False  # the next stage's jobs carry their own roles' configs
    return Flow([*calcs, final], name=f"{stages.spec.name} {work.name}")


@job
def finish_stage(spec: dict, store: dict, index: int, retry_failed: bool, manager: dict, quantities: list[dict],
                 calc_keys: list[str]):
    """Harvest stage ``index`` once its calculations (``calc_keys``: the dependencies) are done; add the next."""
    stores = open_stores(StoreConfig.model_validate(store))
    try:
        stages = Stages(CampaignSpec.model_validate(spec), stores)
        result = stages.finish(index, [Quantity.from_data(q) for q in quantities])
        report = result.harvest
        summary = {"stage": stages.names[index], "new": report.new, "unchanged": report.unchanged,
                   "updated": report.updated, "waiting": report.waiting, "failed": report.failed}
        if index + 1 == len(stages.names):
            return summary
        return Response(output=summary, addition=stage_flow(stages, index + 1, retry_failed, manager))
    finally:
        stores.close()
