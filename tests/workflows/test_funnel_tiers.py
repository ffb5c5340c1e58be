"""The funnel's warm starts, verification tiers and host-level selection, end to end through the stages.

A second ML potential (SevenNet at a tighter fmax) stands in for DFT: its calculations are real
relaxations and single points, so what each stage sends is checked against numbers the screens
computed, not against what the funnel printed.
"""

from __future__ import annotations

import pytest
from pymatgen.core import Structure

from anodescreen.db.calcs import calc_doc, stored_calcs
from anodescreen.db.schema import CalcDoc
from anodescreen.engines import MLIPEngine
from anodescreen.launchers.local import run_campaign
from anodescreen.workflows.funnel import decide, energy_quantities, rank, screen_engine
from anodescreen.workflows.plan import plan_campaign
from anodescreen.workflows.spec import CampaignSpec, FunnelSpec
from anodescreen.workflows.stages import SINGLE_POINTS, Stages, stage_names

class StandIn(MLIPEngine):
    """SevenNet-0 at a tighter fmax, as its own level of theory (so its rows never replace the screens')."""

    def level_of_theory(self):
        lot = super().level_of_theory()
        return lot.model_copy(update={"method": f"{lot.method} standing in for DFT"})


STAND_IN = StandIn(model="SevenNet", fmax=0.02)


def funnel_spec(name: str, **funnel) -> CampaignSpec:
    spec = CampaignSpec.model_validate({
        "name": name, "hosts": [{"family": "graphene", "size": "2x2", "vacuum": 10.0}],
        "calculations": ["binding_energy"], "references": ["bulk"], "engine": {"name": "cp2k"},
        "funnel": {"screen": ["CHGNet", "SevenNet"], **funnel}})
    return spec.model_copy(update={"engine": STAND_IN})


def screen_bindings(spec: CampaignSpec, stores) -> dict[str, dict[str, tuple[float, str]]]:
    """potential → site → (its stored binding-energy row value, screening calc_key), from the rows."""
    out = {}
    for model in spec.funnel.screen:
        plan = plan_campaign(spec, screen_engine(spec.funnel, model))
        keys = {q.complex_key: q.site for q in plan.quantities}
        lot = plan.engine.level_of_theory().key
        out[model] = {keys[r["calc_keys"]["complex"]]: (r["value"], r["calc_keys"]["complex"])
                      for r in stores.results.query({"lot_key": lot, "reference": "bulk"})}
    return out


def dft_docs(stores, task: str) -> dict[str, CalcDoc]:
    """site label → the stand-in's stored calculations of complexes with ``task``."""
    lot = STAND_IN.level_of_theory().key
    docs = [calc_doc(d["output"]) for d in stores.jobstore.query({"output.lot_key": lot, "output.task": task}, properties=["output"])]
    return {d.label: d for d in docs if "@" in d.label or "/" in d.label}


def test_dft_starts_from_the_lowest_valid_mlip_minimum_and_the_row_says_which(memory_stores, tmp_path):
    spec = funnel_spec("warm", top_k=3, margin=1.0)  # every site goes to DFT
    report = run_campaign(spec, memory_stores, root_dir=tmp_path)
    (decision,) = report.funnel
    bindings = screen_bindings(spec, memory_stores)
    stages = Stages(spec, memory_stores)
    dft = stages.plan(stages.names.index("DFT mlip"))
    complexes = {q.site: dft.calcs[q.complex_key] for q in energy_quantities(dft)}
    assert sorted(complexes) == sorted(bindings["CHGNet"]) and len(complexes) == 3
    for site, request in complexes.items():
        # the start: the potential whose minimum of this site binds most strongly (by its own rows)
        model = min(spec.funnel.screen, key=lambda m: bindings[m][site][0])
        start_key = bindings[model][site][1]
        screened = Structure.from_dict(stored_calcs(memory_stores, [start_key])[start_key][0].structure)
        assert request.started_from == start_key
        assert abs(request.structure.cart_coords - screened.cart_coords).max() < 1e-9
        assert request.structure.site_properties["adsorbate"] == [False] * 8 + [True]
        assert decision.starts[site] == f"{model} minimum ({start_key})"
    rows = {r["site"]: r for r in memory_stores.results.query({"lot_key": STAND_IN.level_of_theory().key})}
    assert {s: r["started_from"] for s, r in rows.items()} == {s: q.started_from for s, q in complexes.items()}
    assert not any(r["single_point"] for r in rows.values())
    # the host starts from a screening minimum too, of the potential of the group's most favourable start
    host = next(r for r in dft.calcs.values() if r.label == "G(2x2)")
    assert host.started_from is not None and decision.starts["(host)"].endswith(f"({host.started_from})")


def test_cold_start_relaxes_from_the_built_geometry(memory_stores, tmp_path):
    spec = funnel_spec("cold", top_k=1, margin=0.0, warm_start="cold")
    run_campaign(spec, memory_stores, root_dir=tmp_path)
    stages = Stages(spec, memory_stores)
    dft = stages.plan(stages.names.index("DFT mlip"))
    built = {q.complex_key: q for q in plan_campaign(spec, STAND_IN).quantities}
    assert all(r.started_from is None for r in dft.calcs.values())
    assert {q.complex_key for q in dft.quantities} <= set(built)  # the same calculations as without a funnel


def test_single_point_tier_sends_exactly_the_expected_sites(memory_stores, tmp_path):
    spec = funnel_spec("sp", verify="single_point", single_point_top_k=2, single_point_margin=0.0, relax_top=1,
                       batch_size=4)
    assert stage_names(spec) == ["screen CHGNet", "screen SevenNet", SINGLE_POINTS, "DFT mlip"]
    report = run_campaign(spec, memory_stores, root_dir=tmp_path)
    # the screens relaxed host and complexes in one batch per potential
    assert memory_stores.jobstore.count({"metadata.batched": 4}) == 2 * 4
    (decision,) = report.funnel
    bindings = screen_bindings(spec, memory_stores)
    expected = {s for m in bindings for s, _ in sorted(bindings[m].items(), key=lambda kv: kv[1][0])[:2]}
    points = dft_docs(memory_stores, "static")
    sites = {label.rsplit("@", 1)[-1].rsplit("/", 1)[-1] for label in points}
    assert set(decision.selected) == expected and len(points) == len(expected)
    assert {s.split("-")[0] for s in sites} == {s.split("-")[0] for s in expected}
    # each single point is on the MLIP minimum it started from
    for doc in points.values():
        start = stored_calcs(memory_stores, [doc.started_from])[doc.started_from][0]
        assert Structure.from_dict(start.structure).cart_coords == pytest.approx(
            Structure.from_dict(doc.input_structure).cart_coords, abs=1e-9)
    # DFT relaxes only the lowest single point, from the same MLIP minimum
    lowest = min(points.values(), key=lambda d: d.energy)
    relaxed = dft_docs(memory_stores, "relax")
    assert list(relaxed) == [lowest.label] and relaxed[lowest.label].started_from == lowest.started_from
    assert list(decision.relaxed) == [decision.single_points[0][0]] and decision.single_points[0][1] == 0.0
    # single-point rows are marked and never share an id with the relaxed row of the same site
    rows = list(memory_stores.results.query({"lot_key": STAND_IN.level_of_theory().key}))
    assert sorted(r["single_point"] for r in rows) == [False] + [True] * len(expected)
    assert len({r["row_id"] for r in rows}) == len(rows)


def test_single_point_only_stores_single_points_and_relaxes_nothing(memory_stores, tmp_path):
    spec = funnel_spec("sponly", verify="single_point_only", single_point_top_k=1, single_point_margin=0.0)
    assert stage_names(spec)[-1] == SINGLE_POINTS
    run_campaign(spec, memory_stores, root_dir=tmp_path)
    assert dft_docs(memory_stores, "relax") == {}
    rows = list(memory_stores.results.query({"lot_key": STAND_IN.level_of_theory().key}))
    assert rows and all(r["single_point"] for r in rows)
    with pytest.raises(Exception, match="single_point_only relaxes nothing"):
        CampaignSpec.model_validate({**funnel_spec("x").model_dump(mode="json"), "engine": {"name": "cp2k"},
                                     "calculations": ["binding_energy", "bader_charge"],
                                     "funnel": {"verify": "single_point_only"}})


# a synthetic many-host screen: host → (CHGNet, SevenNet) energy per alkali atom of its best site
MANY = {"Zn": (-1.9, -1.2), "Cu": (-1.5, -1.0), "Ni": (-1.2, -0.9), "Co": (-0.4, -0.2), "Mn": (-0.8, -1.5),
        "Ti": (-3.5, -3.0), "V": (-0.1, 0.2)}


def _synthetic_screens(spec: CampaignSpec, stores, flagged: str = "V") -> None:
    """Store a successful 'relaxation' of every screening request: the complex of the host's first site at
    the table's energy, the others 0.5 eV above; host 0; bulk alkali −1 eV/atom; Mn's potentials disagree;
    ``flagged``'s second site has its metal pushed 1 Å out, 0.2 eV below its best valid site."""
    for number, model in enumerate(spec.funnel.screen):
        plan = plan_campaign(spec, screen_engine(spec.funnel, model))
        first = {}
        for q in energy_quantities(plan):
            first.setdefault(q.host.metal, q.site)
        docs = []
        for key, request in plan.calcs.items():
            final = request.structure.copy()
            energy = 0.0
            if request.reference:
                energy = -1.0 * len(final)
            q = next((q for q in plan.quantities if q.complex_key == key), None)
            if q is not None:
                best = MANY[q.host.metal][number] - 1.0
                second = q.site != first[q.host.metal]
                if q.host.metal == "Mn" and number == 1:  # SevenNet prefers another site
                    second = not second
                energy = best + (0.5 if second else 0.0)
                if q.host.metal == flagged and second:
                    energy = best - 0.2
                    metal = next(i for i, s in enumerate(final) if s.specie.symbol == flagged)
                    final.translate_sites([metal], [0, 0, 1.0], frac_coords=False)
            docs.append({"uuid": f"{model}-{key}", "index": 1, "output": CalcDoc(
                calc_key=key, label=request.label, task=request.task, state="successful", energy=energy,
                n_sites=len(final), formula=final.formula, converged=True, structure=final.as_dict(),
                input_structure=request.structure.as_dict(), level_of_theory=plan.engine.level_of_theory(),
                lot_key=plan.engine.level_of_theory().key).model_dump(mode="json")})
        stores.jobstore.docs_store.update(docs, key="uuid")


def many_hosts(**hosts) -> CampaignSpec:
    return CampaignSpec.model_validate({
        "name": "many", "hosts": [{"family": "sac", "metals": sorted(MANY), "size": "3x3", "site_radius": 1.5}],
        "calculations": ["binding_energy"], "references": ["bulk"], "engine": {"name": "cp2k"},
        "funnel": {"screen": ["CHGNet", "SevenNet"], "top_k": 1, "margin": 0.0, "hosts": hosts}})


@pytest.mark.parametrize("rule, expected", [
    # top 2 by either potential: Ti, Zn (CHGNet), Ti, Mn (SevenNet); Mn also disagrees; V is flagged
    ({"top_n": 2}, {"Ti", "Zn", "Mn", "V"}),
    # lithiophilic but releasable: −1.6…−0.8 eV by either potential; Ti (−3.5/−3.0) binds too strongly
    ({"window": [-1.6, -0.8]}, {"Zn", "Cu", "Ni", "Mn", "V"}),
])
def test_host_level_selection_sends_only_the_chosen_hosts_to_dft(memory_stores, rule, expected):
    spec = many_hosts(**rule)
    _synthetic_screens(spec, memory_stores)
    stages = Stages(spec, memory_stores)
    decisions = {g[0].split("-")[0]: d for g, d in stages.decisions()[0].items()}
    assert len(decisions) == len(MANY)
    assert {m for m, d in decisions.items() if d.dft} == expected
    assert "disagree" in " ".join(decisions["Mn"].dft_reasons)
    assert "flagged" in " ".join(decisions["V"].dft_reasons)
    assert decisions["Co"].dft_reasons[0].startswith("outside the host selection")
    dft = stages.plan(stages.names.index("DFT cp2k"))
    assert {q.host.metal for q in dft.quantities} == expected
    assert {h.info.metal for h, _, _ in dft.hosts} == expected  # the others' hosts are not relaxed either


def test_host_selection_needs_a_rule():
    with pytest.raises(Exception, match="top_n and/or window"):
        FunnelSpec(hosts={})
    with pytest.raises(Exception, match="low < high"):
        FunnelSpec(hosts={"window": [0.0, -1.0]})


def test_rank_gives_each_candidate_its_energy_per_alkali_atom(memory_stores):
    spec = many_hosts(top_n=1)
    _synthetic_screens(spec, memory_stores, flagged="none")
    plan = plan_campaign(spec, screen_engine(spec.funnel, "CHGNet"))
    calcs = stored_calcs(memory_stores, sorted({k for q in plan.quantities for k in q.input_keys()}))
    ranking = rank(plan, calcs, spec.funnel.anomalies)
    best = {g[0].split("-")[0]: c[0].binding for g, c in ranking.items()}
    assert best == pytest.approx({m: e[0] for m, e in MANY.items()})  # E_c − E_host − μ = (e − 1) − 0 + 1
    assert {g[0].split("-")[0] for g, d in decide({"CHGNet": ranking}, spec.funnel).items() if d.dft} == {"Ti"}


def test_a_site_without_a_valid_mlip_minimum_is_relaxed_not_single_pointed():
    from anodescreen.workflows.funnel import GroupDecision, single_point_sites

    d = GroupDecision(host="h", region="top", element="Li", rankings={}, best={}, disagree=False,
                      selected={"a": ["x"], "b": ["y"]},
                      starts={"a": "built geometry (no valid MLIP minimum)", "b": "CHGNet minimum (k)"})
    assert single_point_sites({("h", "top", "Li"): d}) == {("h", "top", "Li"): {"b"}}
    assert not d.warm("a") and d.warm("b") and not d.warm("c")


def _merged_screens(spec: CampaignSpec, stores, gap: float, chgnet_bridge_fails: bool = False,
                    sevennet_splits: bool = False) -> tuple[str, str, str]:
    """Store screening 'relaxations' of G(2x2) in which bridge falls into hollow's geometry, ``gap`` eV above
    it (``sevennet_splits``: SevenNet keeps bridge where it was); top stays put 0.3 eV up; host 0, bulk Li
    −1 eV/atom; SevenNet's complexes 0.5 eV above CHGNet's. Returns the (top, bridge, hollow) labels."""
    for number, model in enumerate(spec.funnel.screen):
        plan = plan_campaign(spec, screen_engine(spec.funnel, model))
        sites = {q.site.split("#")[0]: q for q in energy_quantities(plan)}
        hollow = plan.calcs[sites["hollow"].complex_key].structure
        energies = {"top": -2.7, "bridge": -3.0 + gap, "hollow": -3.0}
        docs = []
        for key, request in plan.calcs.items():
            site = next((s for s, q in sites.items() if q.complex_key == key), None)
            merged = site == "bridge" and not (sevennet_splits and model == "SevenNet")
            final = hollow if merged else request.structure
            energy = energies[site] + 0.5 * number if site else (-1.0 * len(final) if request.reference else 0.0)
            failed = chgnet_bridge_fails and model == "CHGNet" and site == "bridge"
            docs.append({"uuid": f"{model}-{key}", "index": 1, "output": CalcDoc(
                calc_key=key, label=request.label, task=request.task, energy=energy,
                state="failed" if failed else "successful", reason="not converged" if failed else None,
                n_sites=len(final), formula=final.formula, converged=True, structure=final.as_dict(),
                input_structure=request.structure.as_dict(), level_of_theory=plan.engine.level_of_theory(),
                lot_key=plan.engine.level_of_theory().key).model_dump(mode="json")})
        stores.jobstore.docs_store.update(docs, key="uuid")
    return tuple(sites[s].site for s in ("top", "bridge", "hollow"))


@pytest.mark.parametrize("verify", ["relax", "single_point"])
def test_sites_relaxed_into_one_mlip_minimum_are_verified_once(memory_stores, verify):
    spec = funnel_spec("merge", top_k=3, margin=1.0, verify=verify, single_point_top_k=3, single_point_margin=1.0)
    top, bridge, hollow = _merged_screens(spec, memory_stores, gap=0.001)
    stages = Stages(spec, memory_stores)
    (decision,) = stages.decisions()[0].values()
    assert set(decision.selected) == {top, bridge, hollow}
    first = stages.plan(stages.names.index(SINGLE_POINTS if verify == "single_point" else "DFT mlip"))
    if verify == "relax":  # one relaxation of the shared minimum, from the lowest start (CHGNet's)
        assert decision.merged == {bridge: hollow} and "1 sharing another's MLIP minimum" in decision.summary()
        assert sorted(q.site for q in energy_quantities(first)) == sorted([top, hollow])
    else:  # a single point on each potential's copy of it: bridge carries SevenNet's
        assert decision.merged == {} and decision.starts[bridge].startswith("SevenNet")
        assert decision.starts[hollow].startswith("CHGNet") and decision.starts[top].startswith("CHGNet")
        assert sorted(q.site for q in energy_quantities(first)) == sorted([top, bridge, hollow])


def test_sites_one_potential_merges_and_the_other_cannot_judge_are_merged(memory_stores):
    spec = funnel_spec("cross", top_k=3, margin=1.0)
    _, bridge, hollow = _merged_screens(spec, memory_stores, gap=0.0, chgnet_bridge_fails=True)
    (decision,) = Stages(spec, memory_stores).decisions()[0].values()
    # CHGNet's bridge failed: SevenNet, which relaxed bridge into hollow, decides alone
    assert decision.starts[bridge].startswith("SevenNet") and decision.starts[hollow].startswith("CHGNet")
    assert decision.merged == {bridge: hollow}


def test_sites_one_potential_tells_apart_are_not_merged(memory_stores):
    spec = funnel_spec("split", top_k=3, margin=1.0)
    _merged_screens(spec, memory_stores, gap=0.0, sevennet_splits=True)
    (decision,) = Stages(spec, memory_stores).decisions()[0].values()
    assert decision.merged == {}


def test_minima_10_meV_apart_or_merging_off_are_verified_separately(memory_stores):
    spec = funnel_spec("apart", top_k=3, margin=1.0)
    _merged_screens(spec, memory_stores, gap=0.010)
    (decision,) = Stages(spec, memory_stores).decisions()[0].values()
    assert decision.merged == {}
    off = funnel_spec("off", top_k=3, margin=1.0, merge_minima=False)
    stages = Stages(off, memory_stores)
    _merged_screens(off, memory_stores, gap=0.0)
    assert next(iter(stages.decisions()[0].values())).merged == {}
    assert len(energy_quantities(stages.plan(stages.names.index("DFT mlip")))) == 3
