"""Formation energy per atom of a compound from its elements' ground states:
ΔH_f = [E(compound) − Σ_i n_i·μ_i] / N_atoms (eV/atom, negative = stable), every structure cell-relaxed
at the same level of theory (metals in their bulk ground state, F2/O2/N2/Cl2/H2 as dimers and sulfur as an S8 ring in a box).

Planned from the spec's ``compounds``; one row per compound, reference ``elements``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pymatgen.core import Structure

from anodescreen.analysis.energies import formation_energy_per_atom
from anodescreen.core.plan import Plan, Quantity
from anodescreen.core.property import Calcs, Property, RowKind
from anodescreen.core.rows import result_row
from anodescreen.db.report import ENERGIES
from anodescreen.db.schema import AdsorbateInfo, HostInfo, ReferenceState, ResultRow
from anodescreen.errors import AnodescreenError
from anodescreen.structures.compounds import COMPOUNDS, compound
from anodescreen.structures.references import elemental_reference, is_molecular
from anodescreen.structures.sites import structure_label


def add_formation(plan: Plan, s: Structure) -> None:
    """A compound and the ground state of each of its elements, relaxed at the same theory."""
    label = structure_label(s)
    key = plan.add(label, "relax-cell", s)
    refs = {}
    for el in sorted({e.symbol for e in s.composition}):
        ref = elemental_reference(el)
        task = "relax" if is_molecular(ref) else "relax-cell"  # a molecule keeps its box
        refs[el] = plan.add(ref.properties["label"], task, ref, reference=True)
    cation = min(s.composition, key=lambda e: e.X)
    plan.quantities.append(Quantity(
        kind=KIND.name, host=HostInfo(family="compound", label=label),
        adsorbate=AdsorbateInfo(element=cation.symbol, count=int(s.composition[cation])), site=None,
        region="bulk", complex_key=key, host_key=key, reference_keys=refs, complex_label=label))


def _plan(plan: Plan, spec) -> None:
    for formula in spec.compounds:
        add_formation(plan, compound(formula))


def _formulas(value: list[str]) -> list[str]:
    for formula in value:
        if formula not in COMPOUNDS:
            raise AnodescreenError(f"no prototype for {formula!r} (have {', '.join(COMPOUNDS)})")
    return value


def _derive(kind: RowKind, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
    doc = calcs[q.complex_key][0]
    states = [ReferenceState(name="elements", label=calcs[k][0].label, element=el,
                             energy_per_atom=calcs[k][0].energy / calcs[k][0].n_sites, calc_key=k)
              for el, k in sorted(q.reference_keys.items())]
    value = formation_energy_per_atom(doc.energy, doc.formula, {s.element: s.energy_per_atom for s in states})
    roles = {"compound": q.complex_key, **{f"element {el}": k for el, k in q.reference_keys.items()}}
    return [result_row(q, kind, value, doc.level_of_theory, "elements", states, doc.structure, roles, calcs,
                       campaign)]


KIND = RowKind(name="formation_energy", unit="eV/atom", definition="dH_f = [E(compound) - sum_i n_i*mu_i] / N_atoms",
               reference="elements", derive=_derive, report=ENERGIES)

PROPERTY = Property(name="formation_energy", rows=(KIND,), description="compounds of the spec's `compounds` "
                    "from their elements", plan_spec=_plan,
                    settings={"compounds": (Annotated[list[str], AfterValidator(_formulas)], Field(
                        [], description="formation energies from the elements (LiF, Li2O, ...)"))})
