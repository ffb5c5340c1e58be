"""The registry of literature targets: ``targets.yaml`` plus formation energies from pymatgen's tables.

Formation-energy targets are generated for every compound the structure library builds
(:data:`~anodescreen.structures.compounds.COMPOUNDS`) whose elements have a built-in
ground state: ``formation-exp-<formula>`` (experimental enthalpy, per atom) and, where
Materials Project's GGA energies of the compound and its elements are bundled,
``formation-mp-<formula>`` (raw GGA: what DFT engines and SevenNet-0 reproduce) and
``formation-mp2020-<formula>`` (with MP2020's anion corrections: what CHGNet was trained on).
A target with an ``energy_form`` is compared only at a level of theory of that form.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Composition
from pymatgen.entries.computed_entries import ComputedEntry

from anodescreen.engines.base import EnergyForm
from anodescreen.errors import AnodescreenError
from anodescreen.properties import KINDS

#: MP's key for each element's ground state in calc_compounds.json.gz (diatomic gases as X2)
_MP_ELEMENT_KEY = {"H": "H2", "N": "N2", "O": "O2", "F": "F2", "Cl": "Cl2"}


class RowSpec(BaseModel):
    """The stored row(s) a computed value comes from; the lowest value over sites is taken."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    host: str
    adsorbate: str
    reference: str


class Compute(BaseModel):
    """How anodescreen obtains the number."""

    model_config = ConfigDict(extra="forbid")

    how: Literal["capacity", "row", "difference", "host_difference", "not_run"]
    metal: str | None = None  # capacity
    layers: int | None = None  # capacity
    kind: str | None = None  # row
    host: str | None = None
    adsorbate: str | None = None
    reference: str | None = None
    first: RowSpec | None = None  # difference: first - second
    second: RowSpec | None = None
    hosts: list[str] = []  # host_difference: per-atom energy of hosts[0] - hosts[1]
    reason: str | None = None  # not_run

    def row(self) -> RowSpec:
        return RowSpec(kind=self.kind, host=self.host, adsorbate=self.adsorbate, reference=self.reference)


class Target(BaseModel):
    """One literature number (or sign) and how to reproduce it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    category: str
    value: float | None = None
    expect: Literal["value", "negative", "positive"] = "value"
    unit: str = "eV"
    definition: str = ""
    reference_states: str = ""
    source_theory: str = ""
    citation: str = ""
    tolerance: dict[Literal["exact", "mlip", "dft"], float] = Field(default_factory=dict)
    why: str = ""
    compute: Compute
    campaign: str | None = None
    compounds: list[str] = []  # formation targets: the compound the campaign must build
    energy_form: EnergyForm | None = Field(None, description="MP formation targets: compared only at a level "
                                                             "of theory whose energies have this form")

    def tolerance_for(self, engine_class: str) -> float | None:
        return self.tolerance.get("exact", self.tolerance.get(engine_class))


def _data_file(name: str) -> Path:
    import pymatgen.analysis.compatibility as compat

    return Path(compat.__file__).parent / name


@cache
def experimental_enthalpies() -> dict[str, float]:
    """Reduced formula → experimental ΔH_f (eV/atom) from pymatgen's exp_compounds.json.gz."""
    with gzip.open(_data_file("exp_compounds.json.gz"), "rt") as handle:
        data = json.load(handle)
    out = {}
    for entry in data:
        comp = Composition(entry["formula"])
        out.setdefault(comp.reduced_formula, entry["exp energy"] / comp.num_atoms)
    return out


@cache
def _mp_entries() -> dict[str, dict]:
    with gzip.open(_data_file("calc_compounds.json.gz"), "rt") as handle:
        return json.load(handle)


def _mp_entry(key: str, corrected: bool) -> ComputedEntry | None:
    """A bundled MP entry (raw GGA only; ``corrected``: with MP2020's corrections), or None."""
    raw = _mp_entries().get(key)
    if raw is None or raw["parameters"].get("run_type") != "GGA":
        return None
    entry = ComputedEntry.from_dict(raw)
    if corrected:
        from pymatgen.entries.compatibility import MaterialsProject2020Compatibility

        entry.energy_adjustments = MaterialsProject2020Compatibility(check_potcar=False).get_adjustments(entry)
    return entry


def mp_formation_energy(formula: str, corrected: bool = False) -> float | None:
    """ΔH_f (eV/atom) of ``formula`` from MP's GGA energies of it and its elements (``corrected``: with the
    MP2020 anion corrections, Wang et al., Sci. Rep. 11, 15496 (2021)), or None."""
    comp = Composition(formula)
    compound = _mp_entry(comp.reduced_formula, corrected)
    elements = {str(el): _mp_entry(_MP_ELEMENT_KEY.get(str(el), str(el)), corrected) for el in comp}
    if compound is None or None in elements.values():
        return None
    mu = {el: e.energy_per_atom for el, e in elements.items()}
    return compound.energy_per_atom - sum(n * mu[el] for el, n in comp.get_el_amt_dict().items()) / comp.num_atoms


def _registry() -> dict:
    return yaml.safe_load(files("anodescreen.reproduce").joinpath("targets.yaml").read_text())


def campaigns() -> dict[str, dict]:
    """Campaign fragments by name (fields of a campaign spec, without name and engine)."""
    return _registry()["campaigns"]


def load_targets() -> list[Target]:
    """Every target: the YAML list, then formation energies of each buildable compound."""
    from anodescreen.structures.compounds import COMPOUNDS
    from anodescreen.structures.references import elemental_reference

    data = _registry()
    categories, citations = data["categories"], data["references"]
    targets = []
    for raw in data["targets"]:
        raw = {**categories.get(raw["category"], {}), **raw}
        if raw["category"] == "capacity-multilayer":
            raw["tolerance"] = {"exact": round(0.10 * raw["value"], 1)}
        raw["citation"] = citations.get(raw.get("citation", ""), raw.get("citation", ""))
        targets.append(Target.model_validate(raw))
    exp = experimental_enthalpies()
    for formula in COMPOUNDS:
        try:
            for el in Composition(formula):
                elemental_reference(str(el))
        except AnodescreenError:
            continue  # e.g. manganese: no built-in ground state
        label = f"{formula}-{COMPOUNDS[formula][0]}"
        cation = min(Composition(formula), key=lambda e: e.X).symbol
        compute = {"how": "row", "kind": "formation_energy", "host": label, "adsorbate": cation,
                   "reference": "elements"}
        common = {"unit": KINDS["formation_energy"].unit, "definition": KINDS["formation_energy"].definition,
                  "campaign": "formation", "compounds": [formula], "compute": compute}
        for category, value, source, citation, form in (
                ("formation-exp", exp.get(formula), "experiment, 298 K", "kubaschewski", None),
                ("formation-mp", mp_formation_energy(formula), "PBE (VASP, PAW), MP raw GGA", "mp", "GGA"),
                ("formation-mp2020", mp_formation_energy(formula, corrected=True),
                 "PBE (VASP, PAW), MP GGA with MP2020 anion corrections", "mp2020", "MP2020")):
            if value is None:
                continue
            targets.append(Target(
                name=f"{category}-{formula}", category=category, value=round(value, 4), source_theory=source,
                citation=citations[citation], tolerance=categories[category]["tolerance"],
                why=categories[category]["why"], reference_states="elemental ground states", energy_form=form,
                **common))
    return targets
