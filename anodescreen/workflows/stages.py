"""A campaign as a sequence of stages, each a Plan derived from the spec and what is stored.

Without a funnel: ``compute`` (every site at the campaign's engine). With one: ``screen
<model>`` per potential, then ``DFT <engine>`` on the sites the potentials chose. Then, if
the spec asks for NEB, charges or SAC loading with 2+ atoms, ``NEB and charges`` on the
relaxations of the previous stage; with NEB, ``NEB endpoints`` comes first and relaxes
every hop endpoint once, so NEB jobs start from relaxed endpoints. A stage's plan depends only on the spec and the stored
calculations of the stages before it, so every launcher (local, FireWorks, jobflow-remote) runs the same stages and
a stage can be planned again anywhere, at any time, with the same result.
"""

from __future__ import annotations

from anodescreen.db.stores import Stores
from anodescreen.workflows.funnel import GroupDecision, allowed_sites, decide, rank, record_dft
from anodescreen.workflows.harvest import stored_calcs
from anodescreen.workflows.plan import Plan, endpoint_plan, plan_campaign, plan_followups
from anodescreen.workflows.spec import CampaignSpec

FOLLOWUP_STAGE = "NEB and charges"
ENDPOINT_STAGE = "NEB endpoints"


def stage_names(spec: CampaignSpec) -> list[str]:
    """The campaign's stages, in order."""
    if spec.funnel is None:
        names = ["compute"]
    else:
        names = [f"screen {model}" for model in spec.funnel.screen] + [f"DFT {spec.engine.name}"]
    if "diffusion_barrier" in spec.calculations:
        names.append(ENDPOINT_STAGE)
    if spec.has_followups:
        names.append(FOLLOWUP_STAGE)
    return names


def stage_plan(spec: CampaignSpec, stores: Stores, index: int) -> Plan:
    """The plan of stage ``index``; stages after the first need the earlier stages' stored results."""
    name = stage_names(spec)[index]
    if name == "compute":
        return plan_campaign(spec)
    if name.startswith("screen "):
        return plan_campaign(spec, _screen_engine(spec, name.removeprefix("screen ")))
    if name in (ENDPOINT_STAGE, FOLLOWUP_STAGE):
        names = stage_names(spec)
        first = names.index(ENDPOINT_STAGE) if ENDPOINT_STAGE in names else index
        base = stage_plan(spec, stores, first - 1)
        calcs = stored_calcs(stores, list(base.calcs))
        follow = plan_followups(base, calcs)
        if ENDPOINT_STAGE not in names:
            return follow
        ends = endpoint_plan(follow)
        return ends if name == ENDPOINT_STAGE else plan_followups(base, calcs, stored_calcs(stores, list(ends.calcs)))
    return plan_campaign(spec, spec.engine, allowed_sites(funnel_decisions(spec, stores)))


def after_stage(spec: CampaignSpec, stores: Stores, index: int) -> list[GroupDecision]:
    """What follows stage ``index`` on any launcher: after a funnel's DFT stage, its recorded decisions."""
    if spec.funnel is not None and stage_names(spec)[index].startswith("DFT "):
        return record_funnel(spec, stores)
    return []


def funnel_decisions(spec: CampaignSpec, stores: Stores) -> dict:
    """Which sites go to DFT, from the stored screening relaxations of every potential."""
    rankings = {}
    for model in spec.funnel.screen:
        plan = plan_campaign(spec, _screen_engine(spec, model))
        rankings[model] = rank(plan, stored_calcs(stores, [q.complex_key for q in plan.quantities]),
                               spec.funnel.anomalies)
    return decide(rankings, spec.funnel)


def record_funnel(spec: CampaignSpec, stores: Stores) -> list[GroupDecision]:
    """After the DFT stage: the funnel's decisions with the DFT ranking, stored in the campaign document."""
    decisions = funnel_decisions(spec, stores)
    dft = plan_campaign(spec, spec.engine, allowed_sites(decisions))
    record_dft(decisions, dft, stored_calcs(stores, [q.complex_key for q in dft.quantities]), spec.funnel.anomalies)
    funnel = list(decisions.values())
    stores.campaigns.update([{"name": spec.name, "spec": spec.model_dump(mode="json"),
                              "funnel": [d.model_dump(mode="json") for d in funnel]}], key="name")
    return funnel


def _screen_engine(spec: CampaignSpec, model: str):
    from anodescreen.engines.mlip import MLIPEngine

    return MLIPEngine(model=model, fmax=spec.funnel.fmax, max_steps=spec.funnel.max_steps)
