"""The funnel: rank every site with one or more ML potentials, send only the plausible ones to DFT.

A universal potential can be wrong about which site is best (CHGNet and SevenNet-0 disagree
on Li at Fe-N4 by 0.2–0.4 eV), so the choice must survive one wrong model: a site goes to
DFT if *any* potential puts it in its top ``top_k`` or within ``margin`` eV of its best.
Relaxed MLIP geometries are checked against anomaly rules first. A flagged result does not
vote, but (by default, ``flagged: verify``) a flagged site the potential puts below or within
``margin`` of its best valid site goes to DFT as well: an exaggerated MLIP distortion must not
hide a site DFT prefers (Li on Zn-N4: CHGNet pushed Zn 1 Å out of its pocket at metal-top, the
DFT-best site). The DFT geometries are checked with the same rules. Every decision is recorded
with its reason, with a ``disagree`` flag when the potentials' best sites differ.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from anodescreen.core.plan import Plan, Quantity
from anodescreen.db.schema import CalcDoc
from anodescreen.engines.mlip import MLIPEngine
from anodescreen.properties import ALKALI_KINDS
from anodescreen.structures.data import nearest_neighbour_distance
from anodescreen.workflows.plan import Group
from anodescreen.workflows.spec import AnomalyRules, FunnelSpec


class Candidate(BaseModel):
    """One site as one potential saw it."""

    site: str
    energy: float | None = Field(None, description="relaxed complex energy (eV); None if failed")
    relative: float | None = Field(None, description="eV above this potential's best valid site")
    anomalies: list[str] = Field(default_factory=list)


class GroupDecision(BaseModel):
    """Which sites of one group go to DFT, and why."""

    host: str
    region: str
    element: str
    rankings: dict[str, list[Candidate]] = Field(description="potential → candidates, best first")
    best: dict[str, str | None] = Field(description="potential → its best valid site")
    selected: dict[str, list[str]] = Field(description="site → reasons it goes to DFT")
    disagree: bool = Field(description="the potentials' best sites differ")
    dft_ranking: list[tuple[str, float]] = Field(default_factory=list, description="(site, eV above best)")
    dft_best_matches: dict[str, bool] = Field(default_factory=dict, description="potential → its best = DFT best")
    dft_anomalies: dict[str, list[str]] = Field(default_factory=dict,
                                                description="site → anomaly rules its DFT geometry breaks")

    def dft_flags(self) -> list[str]:
        """One line per DFT geometry that breaks an anomaly rule."""
        return [f"DFT geometry of {site}: {'; '.join(found)}" for site, found in self.dft_anomalies.items()]


def screen_engine(funnel: FunnelSpec, model: str) -> MLIPEngine:
    """The ML potential ``model`` at the funnel's screening settings."""
    return MLIPEngine(model=model, fmax=funnel.fmax, max_steps=funnel.max_steps)


def energy_quantities(plan: Plan) -> list[Quantity]:
    """One quantity per adsorbate complex: its binding or intercalation energy (what the funnel ranks)."""
    return [q for q in plan.quantities if q.kind in ALKALI_KINDS]


def group_of(q: Quantity) -> Group:
    return (q.host.label, q.region, q.adsorbate.element)


def anomalies(q: Quantity, doc: CalcDoc, rules: AnomalyRules) -> list[str]:
    """Rule violations of the relaxed complex of ``q`` (empty when it looks physical)."""
    if doc.state != "successful" or doc.structure is None:
        return [f"failed: {doc.reason}"]
    initial = Structure.from_dict(doc.input_structure)
    final = Structure.from_dict(doc.structure)
    flags = initial.site_properties.get("adsorbate") or [False] * len(initial)
    element = q.adsorbate.element
    found = []
    if q.host.metal:  # a single-atom metal (SAC hosts)
        for i, site in enumerate(initial):
            if site.specie.symbol == q.host.metal and not flags[i]:
                shift = np.linalg.norm(final.lattice.get_cartesian_coords(
                    _wrapped(final.frac_coords[i] - initial.frac_coords[i])))
                if shift > rules.max_metal_shift:
                    found.append(f"{q.host.metal} left its pocket ({shift:.2f} Å)")
    alkali = [i for i, s in enumerate(final) if s.specie.symbol == element]
    if len(alkali) > 1:
        nn = nearest_neighbour_distance(element)
        d = final.distance_matrix[np.ix_(alkali, alkali)] + np.eye(len(alkali)) * 1e9
        if d.min() < rules.min_alkali_ratio * nn:
            found.append(f"{element} atoms clustered ({d.min():.2f} Å)")
    host_atoms = [i for i in range(len(final)) if not flags[i]]
    for i in (i for i in range(len(final)) if flags[i]):
        gap = final.distance_matrix[i, host_atoms].min()
        if gap > rules.max_adsorbate_gap:
            found.append(f"{element} desorbed ({gap:.2f} Å from the host)")
    return found


def _wrapped(delta: np.ndarray) -> np.ndarray:
    return delta - np.round(delta)


def rank(plan: Plan, calcs: dict[str, tuple[CalcDoc, str]], rules: AnomalyRules) -> dict[Group, list[Candidate]]:
    """Candidates of every group of one potential's screening plan, best valid first."""
    groups: dict[Group, list[Candidate]] = defaultdict(list)
    for q in energy_quantities(plan):
        doc = calcs.get(q.complex_key, (None, None))[0]
        if doc is None:
            groups[group_of(q)].append(Candidate(site=q.site, anomalies=["not computed"]))
            continue
        energy = doc.energy if doc.state == "successful" else None
        groups[group_of(q)].append(Candidate(site=q.site, energy=energy, anomalies=anomalies(q, doc, rules)))
    for candidates in groups.values():
        valid = [c.energy for c in candidates if c.energy is not None and _votes(c, rules)]
        best = min(valid) if valid else None
        for c in candidates:
            c.relative = None if best is None or c.energy is None else round(c.energy - best, 6)
        candidates.sort(key=lambda c: (c.relative is None, c.relative if c.relative is not None else 0, c.site))
    return dict(groups)


def decide(rankings: dict[str, dict[Group, list[Candidate]]], spec: FunnelSpec) -> dict[Group, GroupDecision]:
    """Union over potentials of their top-k and within-margin sites, per group."""
    decisions = {}
    groups = sorted({g for per in rankings.values() for g in per})
    for group in groups:
        per_model = {model: rankings[model].get(group, []) for model in rankings}
        selected: dict[str, list[str]] = defaultdict(list)
        best: dict[str, str | None] = {}
        for model, candidates in per_model.items():
            valid = [c for c in candidates if c.relative is not None and _votes(c, spec.anomalies)]
            best[model] = valid[0].site if valid else None
            for position, c in enumerate(valid):
                if position < spec.top_k:
                    selected[c.site].append(f"{model} rank {position + 1}")
                elif c.relative <= spec.margin:
                    selected[c.site].append(f"{model} +{c.relative:.3f} eV")
            if spec.anomalies.flagged == "verify":
                for c in candidates:
                    if c.anomalies and c.relative is not None and c.relative <= spec.margin:
                        selected[c.site].append(f"{model} {c.relative:+.3f} eV but flagged "
                                                f"({'; '.join(c.anomalies)}): DFT checks")
        if not selected:  # no potential gave a usable ranking: DFT decides everything
            for c in next(iter(per_model.values())):
                selected[c.site].append("no valid MLIP ranking")
        choices = {b for b in best.values() if b is not None}
        decisions[group] = GroupDecision(
            host=group[0], region=group[1], element=group[2], rankings=per_model, best=best,
            selected=dict(sorted(selected.items())), disagree=len(choices) > 1)
    return decisions


def _votes(c: Candidate, rules: AnomalyRules) -> bool:
    return rules.flagged == "vote" or not c.anomalies


def allowed_sites(decisions: dict[Group, GroupDecision]) -> dict[Group, set[str]]:
    return {g: set(d.selected) for g, d in decisions.items()}


def record_dft(decisions: dict[Group, GroupDecision], plan: Plan, calcs: dict[str, tuple[CalcDoc, str]],
               rules: AnomalyRules) -> None:
    """Add the DFT ranking of the selected sites, the rules their DFT geometries break, and whether
    each potential's best agrees."""
    energies: dict[Group, dict[str, float]] = defaultdict(dict)
    for q in energy_quantities(plan):
        doc = calcs.get(q.complex_key, (None, None))[0]
        if doc is not None and doc.state == "successful":
            group = group_of(q)
            energies[group][q.site] = doc.energy
            if group in decisions and (found := anomalies(q, doc, rules)):
                decisions[group].dft_anomalies[q.site] = found
    for group, decision in decisions.items():
        sites = energies.get(group)
        if not sites:
            continue
        low = min(sites.values())
        decision.dft_ranking = sorted(((s, round(e - low, 6)) for s, e in sites.items()), key=lambda x: x[1])
        dft_best = decision.dft_ranking[0][0]
        decision.dft_best_matches = {m: b == dft_best for m, b in decision.best.items()}
