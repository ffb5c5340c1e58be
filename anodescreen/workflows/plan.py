"""Expand a campaign spec into the calculations it needs and the quantities they give.

Host families (:mod:`anodescreen.hosts`) turn the spec's host entries into hosts and their
complexes; properties (:mod:`anodescreen.properties`) say which quantities each host's
complexes give and what the stages after the relaxations compute. The plan is pure and
deterministic: the same spec always gives the same calculations (by calc_key) and the
same quantities (by row identity), which is what makes a re-run compute nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from pymatgen.core import Structure

from anodescreen.core.host import Host
from anodescreen.core.plan import Plan, add_alkali_references, add_host
from anodescreen.core.property import Calcs, Followup, RowKind
from anodescreen.db.schema import CalcDoc
from anodescreen.engines.base import Engine
from anodescreen.errors import AnodescreenError
from anodescreen.hosts import FAMILIES
from anodescreen.properties import PROPERTIES
from anodescreen.workflows.spec import CampaignSpec

#: (host label, region, adsorbate element): a funnel's unit of decision
Group = tuple[str, str, str]


def expand_hosts(spec: CampaignSpec, metal: str) -> list[Host]:
    """Concrete hosts of the spec for adsorbate ``metal`` (metal films depend on it)."""
    return [host for entry in spec.hosts for host in FAMILIES[entry.family].expand(entry, metal)]


def host_complexes(host: Host, metal: str):
    """(site label, structure) of every complex of ``host`` with ``metal``, as its family builds them."""
    return FAMILIES[host.info.family].complexes(host, metal)


@dataclass(frozen=True)
class Selection:
    """What a funnel's DFT stage computes: per group the sites to keep (a group not named keeps every
    site, an empty set drops the group and its host), the screening relaxation each structure starts
    from ((group, structure label) → stored doc; the others start from the built geometry), and the task
    (``static``: single points)."""

    sites: dict[Group, set[str]]
    starts: dict[tuple[Group, str], CalcDoc] = field(default_factory=dict)
    task: str = "relax"

    def key(self) -> list:
        return [sorted((list(g), sorted(s)) for g, s in self.sites.items()),
                sorted((list(g), label, doc.calc_key) for (g, label), doc in self.starts.items()), self.task]


def plan_campaign(spec: CampaignSpec, engine: Engine | None = None, selection: Selection | None = None) -> Plan:
    """All calculations and quantities of the relaxation stage of ``spec`` (``selection``: a funnel's)."""
    plan = Plan(spec, engine or spec.engine)
    for prop in spec.properties:
        if prop.plan_spec is not None:
            prop.plan_spec(plan, spec)
    for adsorbate in spec.adsorbates if spec.hosts else []:  # alkali references only serve hosts
        metal = adsorbate.element
        refs = add_alkali_references(plan, metal, spec.references)
        for host in expand_hosts(spec, metal):
            kinds = complex_kinds(spec, host)
            if not kinds:
                continue
            add_selected(plan, host, metal, refs, kinds, host_complexes(host, metal), selection)
    return plan


def add_selected(plan: Plan, host: Host, metal: str, refs: dict[str, str], kinds: list[RowKind],
                 complexes: list, selection: Selection | None) -> None:
    """:func:`~anodescreen.core.plan.add_host` of the part of ``host`` a funnel's ``selection`` keeps, each
    structure at the screening minimum it starts from."""
    if selection is None:
        add_host(plan, host, metal, refs, kinds, complexes)
        return
    group = (host.info.label, host.region, metal)
    starts = {label: doc for (g, label), doc in selection.starts.items() if g == group}
    if host.info.label in starts:
        host = replace(host, structure=warm_started(host.structure, starts[host.info.label]))
    complexes = [(site, warm_started(s, starts[s.properties["label"]]) if s.properties["label"] in starts else s)
                 for site, s in complexes]
    add_host(plan, host, metal, refs, kinds, complexes, selection.sites.get(group), selection.task,
             {label: doc.calc_key for label, doc in starts.items()})


def warm_started(built: Structure, doc: CalcDoc) -> Structure:
    """``built`` (its labels, flags and moments) at the relaxed positions of ``doc``, a relaxation of it."""
    relaxed = Structure.from_dict(doc.structure)
    if [s.species_string for s in relaxed] != [s.species_string for s in built]:
        raise AnodescreenError(f"the stored relaxation {doc.calc_key} of {doc.label} has other atoms than "
                               "its structure today: re-run the screens", "funnel")
    return Structure(relaxed.lattice, built.species, relaxed.cart_coords, coords_are_cartesian=True,
                     site_properties=built.site_properties, properties=built.properties)


def complex_kinds(spec: CampaignSpec, host: Host) -> list[RowKind]:
    """Row kinds of ``host`` computed from its relaxed complexes; a follow-up that needs them (NEB,
    charges) still plans them, with the host's energy kind."""
    kinds = [kind for prop in spec.properties if prop.applies is not None and prop.applies(host)
             for kind in prop.rows]
    if not kinds and any(prop.needs_energies for prop in spec.properties):
        kinds = [energy_kind(host)]
    return kinds


def energy_kind(host: Host) -> RowKind:
    """The alkali-referenced kind (binding or intercalation energy) the host's complexes give."""
    return next(kind for prop in PROPERTIES.values() if prop.applies is not None and prop.applies(host)
                for kind in prop.rows if kind.reference == "alkali")


def plan_followups(plan: Plan, calcs: Calcs, prepared: Calcs | None = None) -> Plan:
    """What the requested properties compute on the stored relaxations of ``plan`` (``calcs``:
    stored_calcs of it); ``prepared``: stored results of the stage before (NEB endpoints)."""
    ctx = Followup(base=plan, calcs=calcs, follow=Plan(plan.spec, plan.engine), prepared=prepared)
    followups = [p for p in plan.spec.properties if p.needs_followup(plan.spec)]
    for host, metal, host_key in plan.hosts:
        for prop in followups:
            prop.followup(ctx, host, metal, host_key)
    return ctx.follow


def prepare_stages(spec: CampaignSpec) -> list[tuple[str, object]]:
    """(stage name, follow-up plan → its plan) of every stage run before the follow-ups."""
    return [p.prepare for p in spec.properties if p.prepare is not None and p.needs_followup(spec)]

