"""A campaign as one jobflow Flow that grows stage by stage, for FireWorks and jobflow-remote.

Each stage (:mod:`~anodescreen.workflows.stages`) is one job per calculation not yet
stored plus a stage job that depends on all of them. The stage job opens the campaign's
store, harvests the stage's rows, records the funnel's decisions after its DFT stage, and
adds the next stage to the running flow (a jobflow ``Response(addition=...)``), so funnel
campaigns and NEB/charge follow-ups run on a cluster the way they run locally. The stage
job needs the store; calculation jobs only write their outputs through the JobStore.

``manager`` holds per-role job configs (``{"calc": {...}, "stage": {...}}``), e.g.
jobflow-remote workers; they are set on every stage's jobs, including those added later.
"""

from __future__ import annotations

import re

from jobflow import Flow, Response, job

from anodescreen.db.stores import StoreConfig, Stores, open_stores
from anodescreen.errors import AnodescreenError
from anodescreen.workflows.calcs import CalculationMaker
from anodescreen.workflows.harvest import harvest, stored_calcs
from anodescreen.workflows.spec import CampaignSpec
from anodescreen.workflows.stages import after_stage, stage_names, stage_plan

#: characters a shell takes literally in an unquoted word (queue fields, job names)
SHELL_WORD = "A-Za-z0-9_.+/=:@%-"


def plain_word(text: str) -> str:
    """``text`` with every character a shell could interpret replaced by ``_``."""
    return re.sub(f"[^{SHELL_WORD}]", "_", text) or "_"


def campaign_flow(spec: CampaignSpec, stores: Stores, retry_failed: bool = False,
                  manager: dict[str, dict] | None = None) -> Flow:
    """The campaign's first stage as a Flow; each stage job adds the next one when it runs."""
    if stores.config.type == "mongomock":
        raise AnodescreenError("an in-memory store cannot be shared with workers in other processes: use an "
                               "embedded or mongodb store config", "store")
    flow = stage_flow(spec, stores, 0, retry_failed, manager or {})
    flow.metadata = {"anodescreen_campaign": spec.name}
    return flow


def stage_flow(spec: CampaignSpec, stores: Stores, index: int, retry_failed: bool, manager: dict) -> Flow:
    """Stage ``index``: its calculations not yet stored (or failed, with ``retry_failed``) and its stage job."""
    plan = stage_plan(spec, stores, index)
    known = stored_calcs(stores, list(plan.calcs))
    maker = CalculationMaker(engine=plan.engine)
    calcs = [maker.make(request) for key, request in plan.calcs.items()
             if key not in known or (retry_failed and known[key][0].state == "failed")]
    final = finish_stage(spec.model_dump(mode="json"), stores.config.model_dump(), index, retry_failed, manager,
                         [c.output.calc_key for c in calcs])
    name = stage_names(spec)[index]
    final.name = f"harvest {spec.name} {name}"
    for role, jobs in (("calc", calcs), ("stage", [final])):
        for j in jobs:
            j.name = plain_word(j.name)  # launchers write job names into batch scripts unquoted
            j.config.manager_config = dict(manager.get(role, {}))
    final.config.pass_manager_config = False  # the next stage's jobs carry their own roles' configs
    return Flow([*calcs, final], name=f"{spec.name} {name}")


@job
def finish_stage(spec: dict, store: dict, index: int, retry_failed: bool, manager: dict, calc_keys: list[str]):
    """Harvest stage ``index`` once its calculations (``calc_keys``: the dependencies) are done; add the next."""
    campaign = CampaignSpec.model_validate(spec)
    stores = open_stores(StoreConfig.model_validate(store))
    try:
        stores.campaigns.update([{"name": campaign.name, "spec": spec}], key="name")
        report = harvest(stage_plan(campaign, stores, index), stores)
        names = stage_names(campaign)
        after_stage(campaign, stores, index)
        summary = {"stage": names[index], "new": report.new, "unchanged": report.unchanged,
                   "updated": report.updated, "waiting": report.waiting, "failed": report.failed}
        if index + 1 == len(names):
            return summary
        return Response(output=summary, addition=stage_flow(campaign, stores, index + 1, retry_failed, manager))
    finally:
        stores.close()
