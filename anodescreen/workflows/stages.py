"""A campaign as a sequence of stages, and the one stage runner every launcher uses.

Without a funnel: ``compute`` (every site at the campaign's engine). With one: ``screen
<model>`` per potential, then (``verify`` single_point or single_point_only) ``DFT single
points`` on the candidates' MLIP minima, then (unless single_point_only) ``DFT <engine>``, which
relaxes the chosen sites from their MLIP minima. Then the stages the requested properties add
before their follow-ups (``NEB endpoints``: every hop endpoint relaxed once) and, if any property
has a follow-up (NEB, charges, SAC loading with 2+ atoms), ``NEB and charges`` on the relaxations
of the relaxation stage. A stage's plan depends only on the spec and the stored calculations of
the stages before it, so every launcher (local, FireWorks, jobflow-remote) runs the same stages
and a stage can be planned again anywhere, at any time, with the same result.

:class:`Stages` holds the policy once: which calculations a stage still needs (reuse,
retry), and what follows it (harvest of its rows, the funnel's decisions). Launchers only
execute the requests it hands them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from anodescreen.core.plan import CalcRequest, Plan, Quantity
from anodescreen.db.calcs import stored_calcs
from anodescreen.db.stores import Stores
from anodescreen.engines.base import Engine
from anodescreen.workflows.funnel import (
    GroupDecision,
    allowed_sites,
    decide,
    energy_quantities,
    rank,
    record_dft,
    record_single_points,
    screen_engine,
    single_point_sites,
    warm_starts,
)
from anodescreen.workflows.harvest import HarvestReport, harvest
from anodescreen.workflows.plan import Selection, plan_campaign, plan_followups, prepare_stages
from anodescreen.workflows.spec import CampaignSpec

FOLLOWUP_STAGE = "NEB and charges"
SINGLE_POINTS = "DFT single points"


@dataclass
class StageWork:
    """What a stage still has to compute: its plan, the requests not stored yet (or failed, on a
    retry), how many are reused, and the stored failures it keeps."""

    name: str
    plan: Plan
    todo: list[CalcRequest]
    reused: int
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, reason) of stored failures


@dataclass
class StageResult:
    """What finishing a stage did: its harvest and (after a funnel's DFT stage) the funnel's decisions."""

    harvest: HarvestReport
    funnel: list[GroupDecision] = field(default_factory=list)


class Stages:
    """The stages of ``spec`` over ``stores``. Relaxation-stage plans are built once per instance."""

    def __init__(self, spec: CampaignSpec, stores: Stores):
        self.spec, self.stores = spec, stores
        self.names = stage_names(spec)
        self._plans: dict[str, Plan] = {}

    def relaxations(self, engine: Engine, selection: Selection | None = None) -> Plan:
        """``plan_campaign`` at ``engine`` (``selection``: a funnel's), built once."""
        key = json.dumps([engine.model_dump(mode="json"), selection.key() if selection else None])
        if key not in self._plans:
            self._plans[key] = plan_campaign(self.spec, engine, selection)
        return self._plans[key]

    def plan(self, index: int) -> Plan:
        """The plan of stage ``index``; stages after the first need the earlier stages' stored results."""
        name = self.names[index]
        if name == "compute":
            return self.relaxations(self.spec.engine)
        if name.startswith("screen "):
            return self.relaxations(screen_engine(self.spec.funnel, name.removeprefix("screen ")))
        if name == SINGLE_POINTS:
            return self.relaxations(self.spec.engine, self._single_points(self.decisions())[0])
        if name.startswith("DFT "):
            return self.relaxations(self.spec.engine, self._dft(self.decisions()))
        base = self.plan(self._relaxation_index())
        calcs = stored_calcs(self.stores, list(base.calcs))
        follow = plan_followups(base, calcs)
        prepared = {}
        for stage, prepare in prepare_stages(self.spec):
            plan = prepare(follow)
            if stage == name:
                return plan
            prepared |= stored_calcs(self.stores, list(plan.calcs))
        return plan_followups(base, calcs, prepared) if prepared else follow

    def _relaxation_index(self) -> int:
        """The last stage whose relaxations the follow-ups build on (compute, or the funnel's DFT)."""
        return max(i for i, n in enumerate(self.names) if n == "compute" or
                   (n.startswith("DFT ") and n != SINGLE_POINTS))

    def work(self, index: int, retry_failed: bool = False) -> StageWork:
        """Stage ``index``'s plan and the calculations of it still to run (the campaign is recorded first)."""
        self.record()
        return pending(self.plan(index), self.stores, retry_failed, self.names[index])

    def finish(self, index: int, quantities: list[Quantity]) -> StageResult:
        """After stage ``index``'s calculations: store its rows and, after a funnel's DFT stage, its decisions.
        (The campaign document was written by :meth:`work` when the stage was handed out.)"""
        result = StageResult(harvest(quantities, self.spec.name, self.stores))
        if self.spec.funnel is not None and self.names[index].startswith("DFT "):
            result.funnel = self.record_funnel()
        return result

    def record(self) -> None:
        """The campaign document (name and spec) in the store; recorded funnel decisions of the same
        spec are kept (a store update replaces the whole document)."""
        spec = self.spec.model_dump(mode="json")
        doc = {"name": self.spec.name, "spec": spec}
        old = self.stores.campaigns.query_one({"name": self.spec.name}) or {}
        if old.get("spec") == spec and "funnel" in old:
            doc["funnel"] = old["funnel"]
        self.stores.campaigns.update([doc], key="name")

    def decisions(self) -> tuple[dict, dict]:
        """Which sites go to DFT, from the stored screening relaxations of every potential, and the
        screening relaxation each DFT calculation starts from."""
        funnel = self.spec.funnel
        plans, screens, rankings = {}, {}, {}
        for model in funnel.screen:
            plans[model] = plan = self.relaxations(screen_engine(funnel, model))
            screens[model] = stored_calcs(self.stores, sorted({k for q in energy_quantities(plan)
                                                               for k in q.input_keys()}))
            rankings[model] = rank(plan, screens[model], funnel.anomalies)
        decisions = decide(rankings, funnel)
        return decisions, warm_starts(decisions, screens, plans, funnel.warm_start, funnel.merge_minima,
                                      each_potential=funnel.verify != "relax")

    def _single_points(self, decided: tuple[dict, dict]) -> tuple[Selection, dict]:
        decisions, starts = decided
        return Selection(single_point_sites(decisions), starts, "static"), decisions

    def _dft(self, decided: tuple[dict, dict]) -> Selection:
        """What the DFT relaxation stage relaxes; with verify single_point, from the stored single points."""
        decisions, starts = decided
        verify = self.spec.funnel.verify
        if verify == "single_point":
            self._record_single_points(decided)
        return Selection(allowed_sites(decisions, verify), starts)

    def _record_single_points(self, decided: tuple[dict, dict]) -> None:
        selection, decisions = self._single_points(decided)
        plan = self.relaxations(self.spec.engine, selection)
        record_single_points(decisions, plan, stored_calcs(self.stores, [q.complex_key for q in plan.quantities]),
                             self.spec.funnel.relax_top)

    def record_funnel(self) -> list[GroupDecision]:
        """After a DFT stage: the funnel's decisions with the DFT single-point and relaxed rankings, stored
        in the campaign document."""
        decided = self.decisions()
        decisions = decided[0]
        if self.spec.funnel.verify == "single_point_only":  # otherwise _dft records them (single_point)
            self._record_single_points(decided)
        else:
            dft = self.relaxations(self.spec.engine, self._dft(decided))
            keys = [q.complex_key for q in energy_quantities(dft)]
            record_dft(decisions, dft, stored_calcs(self.stores, keys), self.spec.funnel.anomalies)
        funnel = list(decisions.values())
        self.stores.campaigns.update([{"name": self.spec.name, "spec": self.spec.model_dump(mode="json"),
                                       "funnel": [d.model_dump(mode="json") for d in funnel]}], key="name")
        return funnel


def pending(plan: Plan, stores: Stores, retry_failed: bool = False, name: str = "") -> StageWork:
    """The calculations of ``plan`` not stored yet; with ``retry_failed`` also those stored as failed."""
    known = stored_calcs(stores, list(plan.calcs))
    work = StageWork(name, plan, [], 0)
    for key, request in plan.calcs.items():
        doc = known.get(key)
        if doc and (doc[0].state == "successful" or not retry_failed):
            work.reused += 1
            if doc[0].state == "failed":
                work.failed.append((request.label, doc[0].reason or "unknown"))
        else:
            work.todo.append(request)
    return work


def stage_names(spec: CampaignSpec) -> list[str]:
    """The campaign's stages, in order."""
    if spec.funnel is None:
        names = ["compute"]
    else:
        verify = spec.funnel.verify
        names = [f"screen {model}" for model in spec.funnel.screen] + (
            [SINGLE_POINTS] if verify != "relax" else []) + (
            [f"DFT {spec.engine.name}"] if verify != "single_point_only" else [])
    if spec.has_followups:
        names += [stage for stage, _ in prepare_stages(spec)] + [FOLLOWUP_STAGE]
    return names

