"""Derive result rows from stored calculations and write them, idempotently.

Harvesting is pure bookkeeping over the JobStore: it can run after a local campaign,
after a cluster finishes, or again at any time, and always gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymatgen.core import Structure

from anodescreen.analysis.energies import (
    DEFINITIONS,
    binding_energy,
    formation_energy_per_atom,
    intercalation_energy,
)
from anodescreen.analysis.sac import sac_distortion
from anodescreen.db.schema import UNITS, CalcDoc, ReferenceState, ResultRow, now
from anodescreen.db.stores import Stores
from anodescreen.db.writes import upsert_rows
from anodescreen.errors import AnodescreenError
from anodescreen.structures.sites import site_of
from anodescreen.workflows.plan import Plan, Quantity


def stored_calcs(stores: Stores, keys: list[str]) -> dict[str, tuple[CalcDoc, str]]:
    """Latest stored record (and job uuid) of each calc_key; successful ones win."""
    found: dict[str, tuple[CalcDoc, str]] = {}
    cursor = stores.jobstore.query({"output.calc_key": {"$in": list(keys)}}, properties=["output", "uuid"])
    for doc in cursor:
        calc = calc_doc(doc["output"])
        previous = found.get(calc.calc_key)
        better = previous is None or (previous[0].state != "successful" and calc.state == "successful")
        if better or (previous[0].state == calc.state and calc.completed_at > previous[0].completed_at):
            found[calc.calc_key] = (calc, doc["uuid"])
    return found


def calc_doc(output: CalcDoc | dict) -> CalcDoc:
    """A calculation job's output as stored or as jobflow resolves it (the CalcDoc or its dict)."""
    if isinstance(output, CalcDoc):
        return output
    out = {k: v for k, v in output.items() if not k.startswith("@")}
    out.pop("energies", None)  # lives in the data store; not needed for rows
    return CalcDoc.model_validate(out)


@dataclass
class Derived:
    """Rows of the quantities whose calculations all succeeded, and what kept the others back."""

    rows: list[ResultRow]
    waiting: int  # quantities whose inputs are not all computed yet
    failed: list[str]  # "kind complex: why", one per quantity with a failed input or no defined value


def derive_rows(quantities: list[Quantity], calcs: dict[str, tuple[CalcDoc, str]], campaign: str) -> Derived:
    """Rows of ``quantities`` from ``calcs`` (calc_key → (CalcDoc, job uuid))."""
    out = Derived(rows=[], waiting=0, failed=[])
    for q in quantities:
        inputs = [q.complex_key, q.host_key, *q.reference_keys.values()]
        if any(k not in calcs for k in inputs):
            out.waiting += 1
            continue
        bad = [calcs[k][0] for k in inputs if calcs[k][0].state != "successful"]
        if bad:
            out.failed.append(f"{q.kind} {q.complex_label}: {bad[0].label}: {bad[0].reason}")
            continue
        try:
            out.rows += _rows(q, calcs, campaign)
        except AnodescreenError as exc:  # e.g. a SAC metal left its pocket: no distortion to measure
            out.failed.append(f"{q.kind} {q.complex_label}: {exc}")
    return out


@dataclass
class HarvestReport:
    """What a harvest did."""

    new: int = 0
    unchanged: int = 0
    updated: int = 0
    waiting: int = 0  # quantities whose inputs are not all computed yet
    failed: int = 0  # quantities with a failed input
    superseded: int = 0  # stored rows of the same calculations under an older label


def harvest(plan: Plan, stores: Stores) -> HarvestReport:
    """Compute every quantity of ``plan`` whose calculations succeeded and store it."""
    keys = {k for q in plan.quantities for k in (q.complex_key, q.host_key, *q.reference_keys.values())}
    calcs = stored_calcs(stores, sorted(keys))
    derived = derive_rows(plan.quantities, calcs, plan.spec.name)
    report = HarvestReport(waiting=derived.waiting, failed=len(derived.failed))
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


def _formation_row(q: Quantity, calcs: dict[str, tuple[CalcDoc, str]], campaign: str) -> ResultRow:
    doc, job = calcs[q.complex_key]
    states = [ReferenceState(name="elements", label=calcs[k][0].label, element=el,
                             energy_per_atom=calcs[k][0].energy / calcs[k][0].n_sites, calc_key=k)
              for el, k in sorted(q.reference_keys.items())]
    value = formation_energy_per_atom(doc.energy, doc.formula, {s.element: s.energy_per_atom for s in states})
    lot = doc.level_of_theory
    return ResultRow(
        row_id=ResultRow.make_id(q.kind, q.host.label, q.adsorbate.element, q.adsorbate.count, None, "elements",
                                 lot.key),
        kind=q.kind, value=round(value, 6), unit=UNITS[q.kind], definition=DEFINITIONS[q.kind], host=q.host,
        adsorbate=q.adsorbate, reference="elements", reference_states=states, level_of_theory=lot,
        lot_key=lot.key, is_dft=lot.is_dft, structure_label=q.complex_label, structure=doc.structure,
        calc_keys={"compound": q.complex_key, **{f"element {el}": k for el, k in q.reference_keys.items()}},
        job_ids={"compound": job, **{f"element {el}": calcs[k][1] for el, k in q.reference_keys.items()}},
        campaigns=[campaign], created_at=now(), updated_at=now())


def _derived_row(q: Quantity, calcs: dict[str, tuple[CalcDoc, str]], campaign: str) -> ResultRow:
    """A quantity without a chemical potential: barrier, charge, Δq_z or SAC distortion."""
    doc, _ = calcs[q.complex_key]
    details = doc.details
    if q.kind == "diffusion_barrier":
        value = details["forward"]
    elif q.kind == "bader_charge":
        value = details["transfer"]
    elif q.kind == "charge_depletion":
        value, details = details["difference"]["depletion"], details["difference"]
    else:  # sac_distortion: relaxed host vs relaxed complex
        host = Structure.from_dict(calcs[q.host_key][0].structure)
        details = sac_distortion(host, Structure.from_dict(doc.structure), q.host.metal)
        value = details["max_bond_change"]
    roles = {"complex": q.complex_key} | ({"host": q.host_key} if q.host_key != q.complex_key else {})
    lot = doc.level_of_theory
    return ResultRow(
        row_id=ResultRow.make_id(q.kind, q.host.label, q.adsorbate.element, q.adsorbate.count, q.site, "none",
                                 lot.key),
        kind=q.kind, value=round(float(value), 6), unit=UNITS[q.kind], definition=DEFINITIONS[q.kind], host=q.host,
        adsorbate=q.adsorbate, site=q.site, reference="none", reference_states=[], level_of_theory=lot,
        lot_key=lot.key, is_dft=lot.is_dft, structure_label=q.complex_label, structure=doc.structure,
        details=details, calc_keys=roles, job_ids={role: calcs[key][1] for role, key in roles.items()},
        campaigns=[campaign], created_at=now(), updated_at=now())


def _rows(q: Quantity, calcs: dict[str, tuple[CalcDoc, str]], campaign: str) -> list[ResultRow]:
    if q.kind == "formation_energy":
        return [_formation_row(q, calcs, campaign)]
    if q.kind in ("diffusion_barrier", "bader_charge", "charge_depletion", "sac_distortion"):
        return [_derived_row(q, calcs, campaign)]
    complex_doc, complex_job = calcs[q.complex_key]
    host_doc, host_job = calcs[q.host_key]
    final_site = None
    flags = Structure.from_dict(complex_doc.input_structure).site_properties.get("adsorbate")
    if flags and sum(flags) == 1:  # where the single adatom ended up (relaxations keep atom order)
        final_site = site_of(Structure.from_dict(complex_doc.structure), flags.index(True), q.region)
    lot = complex_doc.level_of_theory
    rows = []
    for name, key in q.reference_keys.items():
        ref_doc, ref_job = calcs[key]
        mu = ref_doc.energy / ref_doc.n_sites
        if q.kind == "binding_energy":
            value = binding_energy(complex_doc.energy, host_doc.energy, mu)
        else:
            value = intercalation_energy(complex_doc.energy, host_doc.energy, q.adsorbate.count, mu)
        rows.append(ResultRow(
            row_id=ResultRow.make_id(q.kind, q.host.label, q.adsorbate.element, q.adsorbate.count,
                                     q.site, name, lot.key),
            kind=q.kind, value=round(value, 6), unit=UNITS[q.kind], definition=DEFINITIONS[q.kind], host=q.host,
            adsorbate=q.adsorbate, site=q.site, final_site=final_site, reference=name,
            reference_states=[ReferenceState(name=name, label=ref_doc.label, element=q.adsorbate.element,
                                             energy_per_atom=mu, calc_key=key)],
            level_of_theory=lot, lot_key=lot.key, is_dft=lot.is_dft,
            structure_label=q.complex_label, structure=complex_doc.structure,
            calc_keys={"complex": q.complex_key, "host": q.host_key, "reference": key},
            job_ids={"complex": complex_job, "host": host_job, "reference": ref_job},
            campaigns=[campaign], created_at=now(), updated_at=now(),
        ))
    return rows
