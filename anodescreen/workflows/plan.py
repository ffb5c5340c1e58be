"""Expand a campaign spec into the calculations it needs and the quantities they give.

Host families (:mod:`anodescreen.hosts`) turn the spec's host entries into hosts and their
complexes; properties (:mod:`anodescreen.properties`) say which quantities each host's
complexes give and what the stages after the relaxations compute. The plan is pure and
deterministic: the same spec always gives the same calculations (by calc_key) and the
same quantities (by row identity), which is what makes a re-run compute nothing new.
"""

from __future__ import annotations

from anodescreen.core.host import Host
from anodescreen.core.plan import Plan, add_alkali_references, add_host
from anodescreen.core.property import Calcs, Followup, RowKind
from anodescreen.engines.base import Engine
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


def plan_campaign(spec: CampaignSpec, engine: Engine | None = None, allowed: dict[Group, set[str]] | None = None
                  ) -> Plan:
    """All calculations and quantities of the relaxation stage of ``spec``.

    ``allowed`` maps (host label, region, element) to the sites to keep (a funnel's choice);
    groups it does not name keep every site.
    """
    plan = Plan(spec, engine or spec.engine)
    for prop in spec.properties:
        if prop.plan_spec is not None:
            prop.plan_spec(plan, spec)
    for adsorbate in spec.adsorbates if spec.hosts else []:  # alkali references only serve hosts
        metal = adsorbate.element
        refs = add_alkali_references(plan, metal, spec.references)
        for host in expand_hosts(spec, metal):
            kinds = complex_kinds(spec, host)
            if kinds:
                keep = (allowed or {}).get((host.info.label, host.region, metal))
                add_host(plan, host, metal, refs, kinds, host_complexes(host, metal), keep)
    return plan


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

