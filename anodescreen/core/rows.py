"""Result rows from stored calculations: the parts every property's ``derive`` shares."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field
from pymatgen.core import Structure

from anodescreen.analysis.geometry import interlayer_distances, vacuum_axes
from anodescreen.core.plan import Quantity
from anodescreen.core.property import Calcs, RowKind
from anodescreen.db.schema import CalcDoc, ReferenceState, ResultRow, now
from anodescreen.structures.sites import site_of
from anodescreen.theory import LevelOfTheory


class MetalMoment(BaseModel):
    """The magnetic state a calculation of a single-metal structure ended in."""

    metal_moment: float | None = Field(None, description="the metal's site-projected moment (μB)")
    total_moment: float | None = Field(None, description="the cell's total moment (μB)")
    states_tried: list[float] = Field(default_factory=list, description="initial metal moments computed (μB); "
                                      "the lowest-energy state is this one")
    notes: list[str] = Field(default_factory=list, description="states that converged to another moment")

    @classmethod
    def of(cls, doc: CalcDoc, metal: str | None) -> MetalMoment | None:
        """From a stored calculation of a structure holding one ``metal`` atom; None if it ran unpolarised."""
        if metal is None or doc.magnetic_moments is None:
            return None
        species = [s["species"][0]["element"] for s in doc.structure["sites"]]
        if species.count(metal) != 1:
            return None
        return cls(metal_moment=round(doc.magnetic_moments[species.index(metal)], 3),
                   total_moment=None if doc.total_magnetization is None else round(doc.total_magnetization, 3),
                   states_tried=[t["initial"] for t in doc.spin_states],
                   notes=[t["note"] for t in doc.spin_states if "note" in t])


class EnergyDetails(BaseModel):
    """Details of an alkali-referenced energy row."""

    same_minimum_as: list[str] = Field(default_factory=list, description="other sites of this host whose "
                                       "relaxed complex is the same minimum (same energy, matching geometry)")
    interlayer_distances: list[float] = Field(default_factory=list, description="spacings between consecutive "
                                              "atomic layers of the relaxed complex, bottom to top (Å; slabs)")
    magnetism: dict[str, MetalMoment] = Field(default_factory=dict, description="single-atom-metal hosts run "
                                              "spin-polarised: the metal's state in the complex and the host")


def adatom_index(doc: CalcDoc) -> int | None:
    """Index of the single adsorbate atom of a calculation (flagged in its input structure), or None
    when it has none or several; relaxations keep the atom order."""
    flags = Structure.from_dict(doc.input_structure).site_properties.get("adsorbate") or []
    return flags.index(True) if sum(flags) == 1 else None


def result_row(q: Quantity, kind: RowKind, value: float, lot: LevelOfTheory, reference: str,
               states: list[ReferenceState], structure: dict, calc_keys: dict[str, str], calcs: Calcs,
               campaign: str, **extra) -> ResultRow:
    """One row of ``q`` with its identity (kind, host, adsorbate, site, reference, level of theory),
    provenance (the calculations of ``calc_keys`` and their jobs) and definition."""
    doc = calcs[q.complex_key][0]
    single_point = doc.task == "static"
    return ResultRow(
        row_id=ResultRow.make_id(kind.name, q.host.label, q.adsorbate.element, q.adsorbate.count, q.site,
                                 reference, lot.key, single_point),
        single_point=single_point, started_from=doc.started_from,
        kind=kind.name, value=round(float(value), 6), unit=kind.unit, definition=kind.definition, host=q.host,
        adsorbate=q.adsorbate, site=q.site, reference=reference, reference_states=states, level_of_theory=lot,
        lot_key=lot.key, is_dft=lot.is_dft, structure_label=q.complex_label, structure=structure,
        calc_keys=calc_keys, job_ids={role: calcs[key][1] for role, key in calc_keys.items()},
        campaigns=[campaign], created_at=now(), updated_at=now(), **extra)


def alkali_rows(energy: Callable[[Quantity, float, float, float], float]
                ) -> Callable[[RowKind, Quantity, Calcs, str], list[ResultRow]]:
    """``derive`` of a kind referenced to the alkali's chemical potential: one row per reference
    (bulk, atom), ``energy(q, E_complex, E_host, mu)`` its value; the site the single adatom
    relaxed to is recorded as ``final_site``."""

    def derive(kind: RowKind, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
        complex_doc, host_doc = calcs[q.complex_key][0], calcs[q.host_key][0]
        relaxed = Structure.from_dict(complex_doc.structure)
        index = adatom_index(complex_doc)
        final_site = None if index is None else site_of(relaxed, index, q.region)  # where the adatom ended up
        magnetism = {role: m for role, doc in (("complex", complex_doc), ("host", host_doc))
                     if (m := MetalMoment.of(doc, q.host.metal)) is not None}
        details = EnergyDetails(interlayer_distances=interlayer_distances(relaxed) if vacuum_axes(relaxed)[2]
                                else [], magnetism=magnetism)
        rows = []
        for name, key in q.reference_keys.items():
            ref_doc = calcs[key][0]
            mu = ref_doc.energy / ref_doc.n_sites
            states = [ReferenceState(name=name, label=ref_doc.label, element=q.adsorbate.element,
                                     energy_per_atom=mu, calc_key=key)]
            rows.append(result_row(
                q, kind, energy(q, complex_doc.energy, host_doc.energy, mu), complex_doc.level_of_theory, name,
                states, complex_doc.structure, {"complex": q.complex_key, "host": q.host_key, "reference": key},
                calcs, campaign, final_site=final_site, details=details.model_dump(mode="json")))
        return rows

    return derive


def unreferenced_row(q: Quantity, kind: RowKind, value: float, details: BaseModel, calcs: Calcs,
                     campaign: str) -> list[ResultRow]:
    """The row of a quantity without a chemical potential (barrier, charge, distortion): reference
    ``none``, the complex's structure and level of theory, the kind's typed ``details``."""
    doc = calcs[q.complex_key][0]
    roles = {"complex": q.complex_key} | ({"host": q.host_key} if q.host_key != q.complex_key else {})
    return [result_row(q, kind, value, doc.level_of_theory, "none", [], doc.structure, roles, calcs, campaign,
                       details=details.model_dump(mode="json"))]
