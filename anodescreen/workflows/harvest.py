"""Derive result rows from stored calculations and write them, idempotently.

Harvesting is pure bookkeeping over the JobStore: it can run after a local campaign,
after a cluster finishes, or again at any time, and always gives the same rows. Each
row kind derives its own rows (:mod:`anodescreen.properties`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pymatgen.core import Structure

from anodescreen.analysis.geometry import is_layered
from anodescreen.analysis.minima import ENERGY_TOL, same_minima
from anodescreen.core.plan import Quantity
from anodescreen.core.property import Calcs
from anodescreen.db.calcs import stored_calcs
from anodescreen.db.schema import ResultRow
from anodescreen.db.stores import Stores
from anodescreen.db.writes import upsert_rows
from anodescreen.errors import AnodescreenError
from anodescreen.properties import KINDS


@dataclass
class Derived:
    """Rows of the quantities whose calculations all succeeded, and what kept the others back."""

    rows: list[ResultRow]
    waiting: int  # quantities whose inputs are not all computed yet
    failed: list[str]  # "kind complex: why", one per quantity with a failed input or no defined value
    notes: list[str] = field(default_factory=list)  # sites relaxed into one minimum, suspiciously short relaxations


def derive_rows(quantities: list[Quantity], calcs: Calcs, campaign: str) -> Derived:
    """Rows of ``quantities`` from ``calcs`` (calc_key → (CalcDoc, job uuid))."""
    out = Derived(rows=[], waiting=0, failed=[])
    for q in quantities:
        inputs = q.input_keys()
        if any(k not in calcs for k in inputs):
            out.waiting += 1
            continue
        bad = [calcs[k][0] for k in inputs if calcs[k][0].state != "successful"]
        if bad:
            out.failed.append(f"{q.kind} {q.complex_label}: {bad[0].label}: {bad[0].reason}")
            continue
        try:
            out.rows += KINDS[q.kind].rows(q, calcs, campaign)
        except AnodescreenError as exc:  # e.g. a SAC metal left its pocket: no distortion to measure
            out.failed.append(f"{q.kind} {q.complex_label}: {exc}")
    out.notes = mark_same_minima(out.rows) + _short_relaxations(quantities, calcs)
    return out


#: a relaxation of a layered host's complex this short probably left the gallery at its start
SHORT_RELAXATION = 5


def _short_relaxations(quantities: list[Quantity], calcs: Calcs) -> list[str]:
    """Complexes of layered hosts (2+ layers of 2+ atoms) whose relaxation stopped within a few steps."""
    lines, layered = set(), {}
    for q in quantities:
        if KINDS[q.kind].reference != "alkali" or q.complex_key not in calcs or q.host_key not in calcs:
            continue
        doc, host = calcs[q.complex_key][0], calcs[q.host_key][0]
        if (doc.state != "successful" or host.state != "successful" or doc.task == "static"
                or doc.n_steps > SHORT_RELAXATION):
            continue
        if q.host_key not in layered:
            layered[q.host_key] = is_layered(Structure.from_dict(host.structure))
        if layered[q.host_key]:
            lines.add(f"{q.complex_label}: relaxation stopped after {doc.n_steps} steps on a layered host; its "
                      f"interlayer spacing may still be the built one")
    return sorted(lines)


def mark_same_minima(rows: list[ResultRow]) -> list[str]:
    """Sites of one host × adsorbate whose relaxed complexes are one minimum (same energy, matching
    geometry): each such row names the others in ``details["same_minimum_as"]``; one line per group.

    Each complex is compared once: its rows of the other references differ from it by the same
    chemical potential, so they follow its verdict."""
    groups: dict[tuple, dict[str, list[ResultRow]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.site is not None and KINDS[row.kind].reference == "alkali":
            key = (row.kind, row.host.label, row.adsorbate.element, row.adsorbate.count, row.lot_key)
            groups[key][row.calc_keys["complex"]].append(row)
    lines = set()
    for (_, host, element, *_), complexes in groups.items():
        reference = min(r.reference for r in next(iter(complexes.values())))
        same_ref = [next(r for r in rows_ if r.reference == reference) for rows_ in complexes.values()]
        values = sorted(r.value for r in same_ref)
        if all(b - a > ENERGY_TOL for a, b in zip(values, values[1:])):
            continue  # no two sites at one energy: nothing to match
        structures = [Structure.from_dict(r.structure) for r in same_ref]
        for same in same_minima(structures, [r.value for r in same_ref]):
            if len(same) > 1:
                sites = sorted(same_ref[i].site for i in same)
                for i in same:
                    for row in complexes[same_ref[i].calc_keys["complex"]]:
                        row.details["same_minimum_as"] = [s for s in sites if s != row.site]
                lines.add(f"{host}/{element}: {', '.join(sites)} relaxed into one minimum")
    return sorted(lines)


@dataclass
class HarvestReport:
    """What a harvest did."""

    new: int = 0
    unchanged: int = 0
    updated: int = 0
    waiting: int = 0  # quantities whose inputs are not all computed yet
    failed: int = 0  # quantities with a failed input
    superseded: int = 0  # stored rows of the same calculations under an older label
    notes: list[str] = field(default_factory=list)  # sites that relaxed into one minimum, short relaxations


def harvest(quantities: list[Quantity], campaign: str, stores: Stores) -> HarvestReport:
    """Compute every quantity whose calculations succeeded and store its rows under ``campaign``."""
    keys = {k for q in quantities for k in q.input_keys()}
    derived = derive_rows(quantities, stored_calcs(stores, sorted(keys)), campaign)
    report = HarvestReport(waiting=derived.waiting, failed=len(derived.failed), notes=derived.notes)
    report.superseded = _drop_superseded(stores, derived.rows)
    report.new, report.unchanged, report.updated = upsert_rows(stores.results, derived.rows)
    return report


def _drop_superseded(stores: Stores, rows: list[ResultRow]) -> int:
    """Remove stored rows that hold the same number as a new row under another id.

    Same kind, reference and input calculations means the same quantity; a different id
    can only come from a changed label (e.g. a renamed site), so the old row goes.
    """
    identity = {(r.kind, r.reference, tuple(sorted(r.calc_keys.items()))): r.row_id for r in rows}
    complexes = sorted({r.calc_keys["complex"] for r in rows if "complex" in r.calc_keys})
    stale = []
    for doc in stores.results.query({"calc_keys.complex": {"$in": complexes}},
                                    properties=["row_id", "kind", "reference", "calc_keys"]):
        key = (doc["kind"], doc["reference"], tuple(sorted(doc["calc_keys"].items())))
        if key in identity and identity[key] != doc["row_id"]:
            stale.append(doc["row_id"])
    if stale:
        stores.results.remove_docs({"row_id": {"$in": stale}})
    return len(stale)
