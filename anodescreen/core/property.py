"""The interface a computed property implements (one module under :mod:`anodescreen.properties`).

A :class:`Property` is what a campaign asks for by name in ``calculations``. It writes one
or more :class:`RowKind` (a bader_charge analysis writes ``bader_charge`` and
``charge_depletion`` rows), each with its unit, its definition (stated there and only
there) and how its row is derived from stored calculations. A property is planned in one
of three ways: on every complex of the hosts it ``applies`` to (first stage), from the
spec alone (``plan_spec``: compounds), or on the relaxed complexes (``followup``, in the
stage after them; ``prepare`` adds a stage before that, e.g. NEB endpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pymatgen.core import Structure

from anodescreen.core.host import Host
from anodescreen.core.plan import CalcRequest, Plan, Quantity
from anodescreen.db.report import Section
from anodescreen.db.schema import CalcDoc, ResultRow
from anodescreen.engines.base import Engine

#: calc_key → (stored calculation, job uuid)
Calcs = dict[str, tuple[CalcDoc, str]]


@dataclass(frozen=True)
class RowKind:
    """One kind of result row. ``reference``: alkali (bulk / atom chemical potential), elements
    (every element's ground state) or none. ``derive(kind, q, calcs, campaign)`` gives its rows;
    ``details`` reads their ``details`` back (``kind.details.model_validate(row["details"])``)."""

    name: str
    unit: str
    definition: str
    reference: Literal["alkali", "elements", "none"]
    derive: Callable[[RowKind, Quantity, Calcs, str], list[ResultRow]]
    report: Section | None = None
    details: type[BaseModel] | None = None  # the typed form of its rows' details

    def rows(self, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
        """Rows of ``q`` from the stored calculations ``calcs``, attributed to ``campaign``."""
        return self.derive(self, q, calcs, campaign)


@dataclass
class Followup:
    """What a follow-up planner sees: the relaxation stage's plan and stored results, the plan it
    adds to, and the stored calculations of the ``prepare`` stage (None before it ran)."""

    base: Plan
    calcs: Calcs
    follow: Plan
    prepared: Calcs | None = None

    def done(self, key: str) -> bool:
        return key in self.calcs and self.calcs[key][0].state == "successful"

    def relaxed(self, key: str) -> Structure | None:
        return Structure.from_dict(self.calcs[key][0].structure) if self.done(key) else None

    def ranked(self, host: Host, metal: str) -> list[Quantity]:
        """The relaxed single-site complexes of host × metal, most favourable first."""
        mine = {q.complex_key: q for q in self.base.quantities if q.host == host.info and q.site is not None
                and q.adsorbate.element == metal and self.done(q.complex_key)}
        return sorted(mine.values(), key=lambda q: (self.calcs[q.complex_key][0].energy, q.site or ""))

    def best(self, host: Host, metal: str) -> Quantity | None:
        return next(iter(self.ranked(host, metal)), None)

    def settings(self, name: str) -> Any:
        """A spec field of the campaign (e.g. ``neb``, ``sac_loading``)."""
        return getattr(self.base.spec, name)


#: a task a property runs on an engine: (request, engine, folder) → CalcDoc fields
TaskRunner = Callable[[CalcRequest, Engine, Path], dict]


@dataclass(frozen=True)
class Property:
    """A quantity a campaign can ask for (``calculations: [<name>]``).

    ``applies(host)``: planned on every complex of such hosts. ``needs_energies``: its
    follow-up needs the complexes relaxed, so they (and their energy rows) are planned even
    when no energy is asked for. ``plan_spec(plan, spec)``: planned from the spec alone.
    ``followup(ctx, host, metal, host_key)``: planned on the relaxed complexes;
    ``wants_followup(spec)`` whether that stage is needed. ``prepare``: (stage name,
    follow-up plan → the plan of a stage run before it). ``tasks``: engine tasks it adds.
    ``check(spec)`` raises :class:`~anodescreen.errors.AnodescreenError` when the campaign
    cannot compute it. ``settings``: fields it adds to the campaign spec, name → (type, pydantic Field).
    """

    name: str
    rows: tuple[RowKind, ...]
    description: str
    applies: Callable[[Host], bool] | None = None
    needs_energies: bool = False
    plan_spec: Callable[[Plan, Any], None] | None = None
    followup: Callable[[Followup, Host, str, str], None] | None = None
    wants_followup: Callable[[Any], bool] | None = None
    prepare: tuple[str, Callable[[Plan], Plan]] | None = None
    tasks: dict[str, TaskRunner] = field(default_factory=dict)
    check: Callable[[Any], None] | None = None
    settings: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def needs_followup(self, spec) -> bool:
        if self.followup is None:
            return False
        return self.wants_followup(spec) if self.wants_followup else True
