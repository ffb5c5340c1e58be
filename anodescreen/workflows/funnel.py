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

DFT starts from an MLIP minimum of each site (``warm_start``), never from the built geometry
when a valid minimum exists. Sites that every potential relaxed into one minimum (matching
geometries, equal energies: on a vacancy most placements fall into it) are verified once, from the
most favourable start; ``merged`` records the others. ``verify`` says what DFT does with the
candidates: relax them; or single points on their MLIP minima (candidates from the wider
``single_point_*`` criteria), then relax only the best ``relax_top``; or only the single points
(AdsorbML's ML+SP). Host-level selection (``hosts``) sends only some host × alkali groups to DFT.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from anodescreen.analysis.minima import same_minima
from anodescreen.core.plan import Plan, Quantity
from anodescreen.db.schema import CalcDoc
from anodescreen.engines.mlip import MLIPEngine
from anodescreen.properties import ALKALI_KINDS
from anodescreen.structures.data import nearest_neighbour_distance
from anodescreen.workflows.plan import Group
from anodescreen.workflows.spec import AnomalyRules, FunnelSpec, HostSelection


class Candidate(BaseModel):
    """One site as one potential saw it."""

    site: str
    energy: float | None = Field(None, description="relaxed complex energy (eV); None if failed")
    relative: float | None = Field(None, description="eV above this potential's best valid site")
    anomalies: list[str] = Field(default_factory=list)
    binding: float | None = Field(None, description="this potential's energy per alkali atom against its "
                                                    "first alkali reference (bulk, else atom), eV")
    calc_key: str | None = Field(None, description="the screening relaxation")


#: how ``GroupDecision.starts`` names a start from the built geometry
COLD = "built geometry"


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
    dft: bool = Field(True, description="the group goes to DFT (host-level selection)")
    dft_reasons: list[str] = Field(default_factory=list, description="why the group goes to DFT or not")
    starts: dict[str, str] = Field(default_factory=dict, description="site → the geometry DFT starts from")
    single_points: list[tuple[str, float]] = Field(default_factory=list,
                                                   description="(site, eV above the lowest DFT single point)")
    relaxed: dict[str, str] = Field(default_factory=dict, description="verify single_point: site → why DFT "
                                                                      "relaxes it")
    merged: dict[str, str] = Field(default_factory=dict, description="site → the candidate whose MLIP minimum it "
                                                                     "shares: DFT computes that one only")

    def warm(self, site: str) -> bool:
        """Whether DFT starts ``site`` from an MLIP minimum (not from the built geometry)."""
        return site in self.starts and not self.starts[site].startswith(COLD)

    def summary(self) -> str:
        """One line: whether the group went to DFT and why, what DFT computed, and the bests."""
        if not self.dft:
            return f"kept at MLIP ({'; '.join(self.dft_reasons)})"
        total = len(next(iter(self.rankings.values()), []))
        best = ", ".join(f"{m}: {s}" for m, s in self.best.items())
        parts = [f"{len(self.selected)}/{total} sites to DFT"]
        if self.merged:
            parts.append(f"{len(self.merged)} sharing another's MLIP minimum")
        if self.single_points:
            parts.append(f"{len(self.single_points)} single points, {len(self.relaxed)} relaxed")
        why = f" because {'; '.join(self.dft_reasons)}" if self.dft_reasons else ""
        dft = f"; DFT best {self.dft_ranking[0][0]}" if self.dft_ranking else (
            f"; lowest single point {self.single_points[0][0]}" if self.single_points else "")
        warn = " [potentials disagree]" if self.disagree else ""
        return f"{', '.join(parts)}{why} (MLIP best {best}{dft}){warn}"

    def dft_flags(self) -> list[str]:
        """One line per DFT geometry that breaks an anomaly rule."""
        return [f"DFT geometry of {site}: {'; '.join(found)}" for site, found in self.dft_anomalies.items()]


def screen_engine(funnel: FunnelSpec, model: str) -> MLIPEngine:
    """The ML potential ``model`` at the funnel's screening settings."""
    return MLIPEngine(model=model, fmax=funnel.fmax, max_steps=funnel.max_steps, batch_size=funnel.batch_size)


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
    """Candidates of every group of one potential's screening plan, best valid first (``calcs``: the stored
    calculations of the plan's energy quantities, host and references included)."""
    groups: dict[Group, list[Candidate]] = defaultdict(list)
    for q in energy_quantities(plan):
        doc = calcs.get(q.complex_key, (None, None))[0]
        if doc is None:
            groups[group_of(q)].append(Candidate(site=q.site, anomalies=["not computed"]))
            continue
        energy = doc.energy if doc.state == "successful" else None
        groups[group_of(q)].append(Candidate(site=q.site, energy=energy, anomalies=anomalies(q, doc, rules),
                                             binding=_per_alkali(q, calcs), calc_key=q.complex_key))
    for candidates in groups.values():
        valid = [c.energy for c in candidates if c.energy is not None and _votes(c, rules)]
        best = min(valid) if valid else None
        for c in candidates:
            c.relative = None if best is None or c.energy is None else round(c.energy - best, 6)
        candidates.sort(key=lambda c: (c.relative is None, c.relative if c.relative is not None else 0, c.site))
    return dict(groups)


def _per_alkali(q: Quantity, calcs: dict[str, tuple[CalcDoc, str]]) -> float | None:
    """(E_complex − E_host − n μ) / n of one potential, against the first of the quantity's references."""
    docs = [calcs.get(k, (None, None))[0] for k in (q.complex_key, q.host_key, *q.reference_keys.values())]
    if len(docs) < 3 or any(d is None or d.state != "successful" for d in docs[:3]):
        return None
    n = q.adsorbate.count
    return round((docs[0].energy - docs[1].energy - n * docs[2].energy / docs[2].n_sites) / n, 6)


def decide(rankings: dict[str, dict[Group, list[Candidate]]], spec: FunnelSpec) -> dict[Group, GroupDecision]:
    """Union over potentials of their top-k and within-margin sites, per group (the single-point criteria
    for the single-point tiers); then, if set, the host-level selection."""
    top_k, margin = ((spec.top_k, spec.margin) if spec.verify == "relax"
                     else (spec.single_point_top_k, spec.single_point_margin))
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
                if position < top_k:
                    selected[c.site].append(f"{model} rank {position + 1}")
                elif c.relative <= margin:
                    selected[c.site].append(f"{model} +{c.relative:.3f} eV")
            if spec.anomalies.flagged == "verify":
                for c in candidates:
                    if c.anomalies and c.relative is not None and c.relative <= margin:
                        selected[c.site].append(f"{model} {c.relative:+.3f} eV but flagged "
                                                f"({'; '.join(c.anomalies)}): DFT checks")
        if not selected:  # no potential gave a usable ranking: DFT decides everything
            for c in next(iter(per_model.values())):
                selected[c.site].append("no valid MLIP ranking")
        choices = {b for b in best.values() if b is not None}
        decisions[group] = GroupDecision(
            host=group[0], region=group[1], element=group[2], rankings=per_model, best=best,
            selected=dict(sorted(selected.items())), disagree=len(choices) > 1)
    if spec.hosts is not None:
        select_hosts(decisions, spec.hosts)
    return decisions


def select_hosts(decisions: dict[Group, GroupDecision], rule: HostSelection) -> None:
    """Mark the groups that go to DFT: per alkali, any potential's top ``top_n`` by its best energy, any
    potential's best inside ``window``, and every group where the potentials disagree or a flagged site
    goes to DFT (it could hide the best site). The others keep their MLIP rows."""
    bests: dict[str, dict[Group, float]] = defaultdict(dict)  # potential → group → its best energy
    for group, d in decisions.items():
        for model, site in d.best.items():
            energy = next((c.binding for c in d.rankings[model] if c.site == site), None)
            if energy is not None:
                bests[model][group] = energy
    for group, d in decisions.items():
        reasons = []
        for model, energies in bests.items():
            if group not in energies:
                continue
            energy = energies[group]
            if rule.top_n is not None:
                peers = sorted(e for g, e in energies.items() if g[2] == group[2])
                position = peers.index(energy) + 1
                if position <= rule.top_n:
                    reasons.append(f"{model} host rank {position} of {len(peers)} ({energy:+.3f} eV)")
            if rule.window is not None and rule.window[0] <= energy <= rule.window[1]:
                reasons.append(f"{model} {energy:+.3f} eV inside the window [{rule.window[0]:g}, {rule.window[1]:g}]")
        if d.disagree:
            reasons.append("the potentials disagree on the best site")
        if any("flagged" in r for why in d.selected.values() for r in why):
            reasons.append("a flagged relaxation could hide the best site")
        if not bests or all(group not in energies for energies in bests.values()):
            reasons.append("no valid MLIP energy")
        d.dft = bool(reasons)
        d.dft_reasons = reasons or [f"outside the host selection ({_rule_text(rule)}): keeps its MLIP rows"]


def _rule_text(rule: HostSelection) -> str:
    parts = ([f"top {rule.top_n}"] if rule.top_n is not None else []) + (
        [f"window [{rule.window[0]:g}, {rule.window[1]:g}] eV"] if rule.window is not None else [])
    return " or ".join(parts)


def warm_starts(decisions: dict[Group, GroupDecision], screens: dict[str, dict[str, tuple[CalcDoc, str]]],
                plans: dict[str, Plan], choice: str, merge: bool = True,
                each_potential: bool = False) -> dict[tuple[Group, str], CalcDoc]:
    """The screening relaxation each DFT calculation starts from: (group, structure label) → stored doc,
    for the candidates of the groups that go to DFT and their hosts; ``decision.starts`` says which.

    ``choice``: ``lowest`` (the valid minimum with the most favourable energy over the potentials),
    a potential's name (its valid minimum), or ``cold`` (none). A site without a valid minimum starts
    from the built geometry; the host starts from the potential of the group's most favourable start.
    With ``merge``, sites that are one minimum (:func:`merge_minima`) go into ``decision.merged``, except
    (``each_potential``, the single-point tiers) one member per potential, started from that potential's
    minimum: a DFT single point is cheap and tells which potential's geometry DFT prefers.
    """
    out: dict[tuple[Group, str], CalcDoc] = {}
    hosts = {model: {group_of(q): q.host_key for q in energy_quantities(plan)} for model, plan in plans.items()}
    for group, d in decisions.items():
        if not d.dft:
            continue
        minima = _valid_minima(d, screens)
        chosen: dict[str, tuple[float, int, str]] = {}  # site → (binding, potential order, potential)
        for site in d.selected:
            options = [(b, order, model) for model, (b, order, _) in minima.get(site, {}).items()
                       if choice in ("lowest", model)]
            if choice == "cold" or not options:
                d.starts[site] = COLD + ("" if choice == "cold" else " (no valid MLIP minimum)")
            else:
                chosen[site] = min(options)
        if merge and chosen:
            for members in merge_minima(d, chosen, minima):
                if each_potential and choice == "lowest":
                    for model in dict.fromkeys(m for s in members for m in minima[s]):
                        spare = [s for s in members if s in d.merged and model in minima[s]]
                        if spare and chosen[members[0]][2] != model:
                            del d.merged[spare[0]]
                            chosen[spare[0]] = minima[spare[0]][model][:2] + (model,)
        for site, (_, _, model) in chosen.items():
            doc = minima[site][model][2]
            if site not in d.merged:
                out[(group, doc.label)] = doc
            d.starts[site] = f"{model} minimum ({doc.calc_key})"
        if chosen:
            model = min(chosen.values())[2]
            host = screens[model].get(hosts[model].get(group), (None, None))[0]
            if host is not None and host.state == "successful":
                out[(group, host.label)] = host
                d.starts["(host)"] = f"{model} minimum ({host.calc_key})"
    return out


def _valid_minima(d: GroupDecision, screens: dict[str, dict[str, tuple[CalcDoc, str]]]
                  ) -> dict[str, dict[str, tuple[float, int, CalcDoc]]]:
    """site → potential → (binding, potential order, screening doc) of every valid MLIP minimum."""
    out: dict[str, dict[str, tuple[float, int, CalcDoc]]] = defaultdict(dict)
    for order, (model, candidates) in enumerate(d.rankings.items()):
        for c in candidates:
            if c.energy is not None and not c.anomalies and c.calc_key in screens[model]:
                binding = c.binding if c.binding is not None else float("inf")
                out[c.site][model] = (binding, order, screens[model][c.calc_key][0])
    return out


def merge_minima(d: GroupDecision, chosen: dict[str, tuple[float, int, str]],
                 minima: dict[str, dict[str, tuple[float, int, CalcDoc]]]) -> list[list[str]]:
    """Record in ``d.merged`` the sites that are one minimum with a site kept before them (``chosen``:
    each warm-started site's start as binding, potential order, potential; the most favourable is kept
    first): every potential with valid minima of both relaxed them into one (matching geometry, energies
    within 2 meV), and at least one did, so one wrong potential cannot merge two sites the other tells
    apart. Returns each minimum's sites, the kept one first."""
    structures = {(s, m): Structure.from_dict(v[2].structure) for s, per in minima.items() for m, v in per.items()}

    def one_minimum(a: str, b: str) -> bool:
        both = [m for m in minima[a] if m in minima[b]]
        return bool(both) and all(same_minima([structures[(a, m)], structures[(b, m)]],
                                              [minima[a][m][2].energy, minima[b][m][2].energy]) == [[0, 1]]
                                  for m in both)

    classes: list[list[str]] = []
    for site in sorted(chosen, key=lambda s: (chosen[s], s)):
        home = next((c for c in classes if one_minimum(site, c[0])), None)
        if home is None:
            classes.append([site])
        else:
            home.append(site)
            d.merged[site] = home[0]
    return classes


def single_point_sites(decisions: dict[Group, GroupDecision]) -> dict[Group, set[str]]:
    """The sites DFT single-points: the candidates with an MLIP minimum to start from, one per minimum."""
    return {g: {s for s in d.selected if d.warm(s) and s not in d.merged} if d.dft else set()
            for g, d in decisions.items()}


def record_single_points(decisions: dict[Group, GroupDecision], plan: Plan, calcs: dict[str, tuple[CalcDoc, str]],
                         relax_top: int) -> None:
    """The DFT single-point ranking of each group, and (verify single_point) the sites DFT relaxes: the
    best ``relax_top`` by single-point energy, and every candidate without an MLIP minimum (from the
    built geometry: a single point there means nothing)."""
    energies: dict[Group, dict[str, float]] = defaultdict(dict)
    for q in energy_quantities(plan):
        doc = calcs.get(q.complex_key, (None, None))[0]
        if doc is not None and doc.state == "successful":
            energies[group_of(q)][q.site] = doc.energy
    for group, d in decisions.items():
        if not d.dft:
            continue
        sites = energies.get(group, {})
        if sites:
            low = min(sites.values())
            d.single_points = sorted(((s, round(e - low, 6)) for s, e in sites.items()), key=lambda x: (x[1], x[0]))
        for position, (site, above) in enumerate(d.single_points[:relax_top]):
            d.relaxed[site] = f"DFT single point rank {position + 1} ({above:+.3f} eV)"
        for site in d.selected:
            if not d.warm(site):
                d.relaxed[site] = "no valid MLIP minimum to single-point: relaxed from the built geometry"


def _votes(c: Candidate, rules: AnomalyRules) -> bool:
    return rules.flagged == "vote" or not c.anomalies


def allowed_sites(decisions: dict[Group, GroupDecision], verify: str = "relax") -> dict[Group, set[str]]:
    """The sites DFT relaxes, per group (none for a group the host-level selection keeps at MLIP), one
    per shared MLIP minimum."""
    return {g: set(d.relaxed if verify == "single_point" else set(d.selected) - set(d.merged)) if d.dft else set()
            for g, d in decisions.items()}


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
