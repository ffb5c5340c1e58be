"""Per-workflow jobflow Makers, atomate2 style, for structures of your own outside a campaign.

Each Maker is a dataclass (engine and settings as fields) whose ``make`` returns a Flow:
one :class:`~anodescreen.workflows.calcs.CalculationMaker` job per calculation and a last
job whose output (:class:`MakerRows`) is the result rows, computed by the same code as a
campaign's harvest, so every row carries its definition, references, level of theory and
structures (DOMAIN.md §2), and the quantities that failed, with the reason. Rows go to
the results database with :func:`~anodescreen.db.writes.upsert_rows`.

    flow = BindingEnergyMaker(engine=Cp2kEngine()).make(my_host, "Na")
    run_locally(flow, store=stores.jobstore)
    upsert_rows(stores.results, flow.output.resolve(stores.jobstore).rows)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jobflow import Flow, Maker, Response, job
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from anodescreen.core.host import Host
from anodescreen.core.plan import Plan, Quantity, add_alkali_references, add_host
from anodescreen.db.calcs import calc_doc
from anodescreen.db.schema import HostInfo, ResultRow
from anodescreen.engines import Engine, MLIPEngine
from anodescreen.properties import KINDS
from anodescreen.properties.formation_energy import add_formation
from anodescreen.structures.sites import add_adsorbate, adsorption_sites, structure_label
from anodescreen.workflows.calcs import CalculationMaker
from anodescreen.errors import AnodescreenError
from anodescreen.workflows.funnel import (
    GroupDecision,
    allowed_sites,
    decide,
    rank,
    record_dft,
    screen_engine,
    warm_starts,
)
from anodescreen.workflows.harvest import derive_rows
from anodescreen.workflows.plan import Selection, add_selected
from anodescreen.workflows.spec import AnomalyRules, FunnelSpec


@dataclass
class BindingEnergyMaker(Maker):
    """Binding energy of one alkali atom at every symmetry-unique site of a host.

    E_b = E(host + M) − E(host) − μ_M for each site of ``region`` ("top", "bottom"; with
    ``centre`` (fractional x, y) and ``max_distance`` (Å) only the sites around a defect or
    metal), one row per site and reference (``bulk``, ``atom``). Host and complexes are
    relaxed (positions) with ``engine``. ``metal``: a single-atom metal in the host, recorded
    with the rows (and watched by the funnel's anomaly rules).
    """

    name: str = "binding energy"
    engine: Engine = field(default_factory=MLIPEngine)
    references: tuple[str, ...] = ("bulk", "atom")
    region: str = "top"
    centre: tuple[float, float] | None = None
    max_distance: float | None = None
    metal: str | None = None

    def make(self, host: Structure, element: str) -> Flow:
        plan = self.plan(host, element)
        return plan_flow(plan, f"{self.name} {plan.hosts[0][0].info.label}/{element}")

    def plan(self, host: Structure, element: str, engine: Engine | None = None,
             references: tuple[str, ...] | None = None, selection: Selection | None = None) -> Plan:
        """Calculations and quantities (``selection``: a funnel's sites and warm starts)."""
        plan = Plan(None, engine or self.engine)
        refs = add_alkali_references(plan, element, list(self.references if references is None else references))
        complexes = [(s.label, add_adsorbate(host, element, s))
                     for s in adsorption_sites(host, self.region, self.centre, self.max_distance)]
        add_selected(plan, Host(_custom(host, self.metal), host, self.region, self.centre, self.max_distance),
                     element, refs, [KINDS["binding_energy"]], complexes, selection)
        return plan


@dataclass
class BindingFunnelMaker(BindingEnergyMaker):
    """The funnel on one host: every site relaxed with each ML potential of ``funnel.screen``,
    ``engine`` (DFT) only on the sites any potential puts in its top ``top_k`` or within
    ``margin`` of its best, plus flagged sites per ``funnel.anomalies.flagged``
    (:mod:`~anodescreen.workflows.funnel`). The output adds the decisions, with the DFT ranking,
    the anomaly rules DFT's geometries break and whether each potential's best site was DFT's."""

    name: str = "binding funnel"
    funnel: FunnelSpec = field(default_factory=FunnelSpec)

    def make(self, host: Structure, element: str) -> Flow:
        if self.funnel.verify != "relax":
            raise AnodescreenError("the funnel Maker verifies by DFT relaxation (verify: relax); campaigns run "
                                   "the single-point tiers", "funnel.verify")
        jobs, outputs = [], {}
        for model in self.funnel.screen:
            plan = self.plan(host, element, screen_engine(self.funnel, model), references=())
            maker = CalculationMaker(engine=plan.engine)
            screened = {key: maker.make(request) for key, request in plan.calcs.items()}
            jobs += screened.values()
            outputs[model] = {key: j.output for key, j in screened.items()}
        choose = self.choose(host, element, outputs)
        choose.name = f"{self.name} choose"
        return Flow([*jobs, choose], output=choose.output, name=f"{self.name} {_custom(host).label}/{element}")

    @job
    def choose(self, host: Structure, element: str, outputs: dict[str, dict]) -> Response:
        """Rank the screening relaxations, decide which sites go to DFT, and run those."""
        rankings, plans, screens = {}, {}, {}
        for model, docs in outputs.items():
            plans[model] = self.plan(host, element, screen_engine(self.funnel, model), references=())
            screens[model] = {k: (calc_doc(d), "") for k, d in docs.items()}
            rankings[model] = rank(plans[model], screens[model], self.funnel.anomalies)
        decisions = decide(rankings, self.funnel)
        starts = warm_starts(decisions, screens, plans, self.funnel.warm_start, self.funnel.merge_minima)
        dft = self.plan(host, element, selection=Selection(allowed_sites(decisions), starts))
        flow = plan_flow(dft, f"{self.name} DFT", [d.model_dump(mode="json") for d in decisions.values()],
                         self.funnel.anomalies.model_dump())
        return Response(replace=flow)



@dataclass
class IntercalationEnergyMaker(Maker):
    """Average intercalation energy of n alkali atoms (or m layers) in a host.

    E_int = [E(host + nM) − E(host) − n μ_M] / n for each intercalated structure, n counted
    from the compositions; host and intercalated structures relaxed (positions).
    """

    name: str = "intercalation energy"
    engine: Engine = field(default_factory=MLIPEngine)
    references: tuple[str, ...] = ("bulk",)

    def make(self, host: Structure, intercalated: list[Structure], element: str) -> Flow:
        plan = Plan(None, self.engine)
        refs = add_alkali_references(plan, element, list(self.references))
        target = Host(_custom(host), host, "gallery", intercalated=True)
        complexes = []
        for s in intercalated:
            label = s.properties.get("label") or s.composition.formula.replace(" ", "")
            complexes.append((label, _labelled(s, label)))
        add_host(plan, target, element, refs, [KINDS["intercalation_energy"]], complexes)
        return plan_flow(plan, f"{self.name} {target.info.label}/{element}")


@dataclass
class FormationEnergyMaker(Maker):
    """Formation energy per atom of compounds from their elements' ground states, all cell-relaxed."""

    name: str = "formation energy"
    engine: Engine = field(default_factory=MLIPEngine)

    def make(self, compounds: list[Structure]) -> Flow:
        plan = Plan(None, self.engine)
        for s in compounds:
            add_formation(plan, s)
        return plan_flow(plan, self.name)


def plan_flow(plan: Plan, name: str, decisions: list[dict] | None = None, rules: dict | None = None) -> Flow:
    """A Flow of the plan's calculations and a last job deriving its quantities' rows from their outputs."""
    maker = CalculationMaker(engine=plan.engine)
    jobs = {key: maker.make(request) for key, request in plan.calcs.items()}
    rows = quantity_rows([q.as_data() for q in plan.quantities], {k: j.output for k, j in jobs.items()},
                         {k: j.uuid for k, j in jobs.items()}, name, decisions, rules)
    rows.name = f"rows {name}"
    return Flow([*jobs.values(), rows], output=rows.output, name=name)


class MakerRows(BaseModel):
    """A Maker flow's output: its rows, the quantities it could not compute (and why), a funnel's decisions."""

    rows: list[ResultRow]
    failed: list[str] = Field(description="quantity: calculation: reason it failed")
    decisions: list[GroupDecision] | None = None


@job
def quantity_rows(quantities: list[dict], outputs: dict, job_ids: dict[str, str], name: str,
                  decisions: list[dict] | None = None, rules: dict | None = None) -> MakerRows:
    """Rows of every quantity whose calculations succeeded, the others listed with the reason;
    with a funnel's ``decisions`` (and anomaly ``rules``), those too, completed with the DFT ranking."""
    calcs = {key: (calc_doc(doc), job_ids[key]) for key, doc in outputs.items()}
    plan = Plan(None, None, quantities=[Quantity.from_data(d) for d in quantities])
    derived = derive_rows(plan.quantities, calcs, name)
    if decisions is None:
        return MakerRows(rows=derived.rows, failed=derived.failed)
    groups = {(d["host"], d["region"], d["element"]): GroupDecision.model_validate(d) for d in decisions}
    record_dft(groups, plan, calcs, AnomalyRules.model_validate(rules or {}))
    return MakerRows(rows=derived.rows, failed=derived.failed, decisions=list(groups.values()))


def _custom(host: Structure, metal: str | None = None) -> HostInfo:
    return HostInfo(family="custom", label=structure_label(host), metal=metal)


def _labelled(structure: Structure, label: str) -> Structure:
    out = structure.copy()
    out.properties = {**structure.properties, "label": label}
    return out
