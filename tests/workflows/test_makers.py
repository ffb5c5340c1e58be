"""Per-workflow Makers: rows equal to the hand-computed energy differences of their own jobs' outputs."""

from __future__ import annotations

import json

import pytest
from jobflow import Flow, run_locally
from monty.json import MontyEncoder

from anodescreen.engines import Cp2kEngine, MLIPEngine
from anodescreen.structures import bilayer_graphene, compound, graphene, intercalated_bilayer
from anodescreen.workflows.makers import (
    BindingEnergyMaker,
    BindingFunnelMaker,
    FormationEnergyMaker,
    IntercalationEnergyMaker,
)


def _run(flow: Flow, stores, tmp_path) -> tuple[dict, dict]:
    """The rows job's output and every calculation's output by calc_key."""
    responses = run_locally(flow, store=stores.jobstore, root_dir=tmp_path, log=False)
    outputs = {j.uuid: responses[j.uuid][1].output for j in flow.jobs}
    rows = outputs.pop(flow.jobs[-1].uuid)
    return rows, {out.calc_key: out for out in outputs.values()}


@pytest.mark.slow
def test_binding_energy_maker_on_graphene(memory_stores, tmp_path):
    host = graphene("2x2")
    rows, calcs = _run(BindingEnergyMaker(engine=MLIPEngine(fmax=0.05)).make(host, "Li"), memory_stores, tmp_path)
    assert rows.failed == []
    parsed = rows.rows
    # graphene has three symmetry-unique sites (hollow, bridge, top), each with a bulk- and an atom-referenced row
    assert sorted((r.site, r.reference) for r in parsed) == sorted(
        (s, ref) for s in ("hollow", "bridge", "top") for ref in ("bulk", "atom"))
    for r in parsed:
        keys = r.calc_keys
        mu = calcs[keys["reference"]].energy / calcs[keys["reference"]].n_sites
        assert r.value == pytest.approx(calcs[keys["complex"]].energy - calcs[keys["host"]].energy - mu, abs=1e-5)
        assert r.host.family == "custom" and not r.is_dft and r.level_of_theory.engine == "mlip"
    bulk = {r.site: r.value for r in parsed if r.reference == "bulk"}
    assert bulk["hollow"] < bulk["bridge"] < bulk["top"]  # the ordering DFT gives (DOMAIN.md)


@pytest.mark.slow
def test_intercalation_and_formation_makers(memory_stores, tmp_path):
    host = bilayer_graphene("2x2", "AA")
    li = intercalated_bilayer("Li", "AA", "2x2")
    rows, calcs = _run(IntercalationEnergyMaker(engine=MLIPEngine(fmax=0.05)).make(host, [li], "Li"),
                       memory_stores, tmp_path / "int")
    (row,) = rows.rows
    k = row.calc_keys
    n = row.adsorbate.count
    assert n == 1 and row.kind == "intercalation_energy"
    mu = calcs[k["reference"]].energy / calcs[k["reference"]].n_sites
    assert row.value == pytest.approx((calcs[k["complex"]].energy - calcs[k["host"]].energy - n * mu) / n, abs=1e-5)

    rows, _ = _run(FormationEnergyMaker(engine=MLIPEngine(fmax=0.05)).make([compound("LiF")]), memory_stores,
                   tmp_path / "form")
    (lif,) = rows.rows
    # experiment: ΔH_f(LiF) = −616 kJ/mol = −3.19 eV/atom
    assert lif.kind == "formation_energy" and -3.7 < lif.value < -2.6
    assert {s.element for s in lif.reference_states} == {"Li", "F"}


def test_failed_calculations_are_listed_not_raised(memory_stores, tmp_path):
    flow = BindingEnergyMaker(engine=Cp2kEngine(command="no-such-cp2k"), references=("bulk",)).make(
        graphene("1x1"), "Na")
    rows, calcs = _run(flow, memory_stores, tmp_path)
    assert rows.rows == [] and len(rows.failed) == 3  # graphene 1x1: three sites
    assert all("no-such-cp2k" in reason for reason in rows.failed)
    assert all(c.state == "failed" for c in calcs.values())


def test_bad_maker_input_is_one_clear_error():
    from anodescreen.errors import AnodescreenError

    with pytest.raises(AnodescreenError, match="unknown alkali reference.*bulks"):
        BindingEnergyMaker(references=("bulks",)).make(graphene("2x2"), "Li")
    with pytest.raises(AnodescreenError, match="Fe"):
        BindingEnergyMaker().make(graphene("2x2"), "Fe")  # not an alkali


def test_maker_flows_serialise_for_remote_workers():
    flow = BindingEnergyMaker().make(graphene("2x2"), "K")
    funnel = BindingFunnelMaker().make(graphene("2x2"), "K")
    assert len(flow.jobs) == 2 + 1 + 3 + 1  # bulk K, K atom, host, 3 sites, rows
    assert len(funnel.jobs) == 2 * (1 + 3) + 1  # per potential: host, 3 sites; then the choice
    for f in (flow, funnel):
        again = Flow.from_dict(json.loads(json.dumps(f.as_dict(), cls=MontyEncoder)))
        assert [j.name for j in again.jobs] == [j.name for j in f.jobs]
    choose = Flow.from_dict(json.loads(json.dumps(funnel.as_dict(), cls=MontyEncoder))).jobs[-1]
    assert choose.function.__self__.funnel.screen == ["CHGNet", "SevenNet"]  # the Maker travels with its job


@pytest.mark.slow
def test_binding_funnel_maker_sends_only_the_chosen_sites_on(memory_stores, tmp_path):
    """CHGNet screens Li on 2×2 graphene; with top_k 1 and no margin only its best site goes on
    to the second engine (here CHGNet at a tighter fmax standing in for DFT: a different theory key)."""
    from anodescreen.workflows.spec import FunnelSpec

    funnel = FunnelSpec(screen=["CHGNet"], top_k=1, margin=0.0, fmax=0.1)
    maker = BindingFunnelMaker(engine=MLIPEngine(fmax=0.03), references=("bulk",), funnel=funnel)
    flow = maker.make(graphene("2x2"), "Li")
    run_locally(flow, store=memory_stores.jobstore, root_dir=tmp_path, log=False)
    out = flow.output.resolve(memory_stores.jobstore)  # as a user gets it: decoded from the store
    screened = {}
    for j in flow.jobs[:-1]:
        doc = memory_stores.jobstore.get_output(j.uuid)
        if "@" in doc["label"]:  # a complex: host + Li on one site
            screened[doc["label"].rsplit("@", 1)[1]] = doc["energy"]
    assert set(screened) == {"hollow", "bridge", "top"}
    best = min(screened, key=screened.get)
    (row,) = out.rows
    assert row.site == best and row.reference == "bulk" and row.structure["@class"] == "Structure"
    (decision,) = out.decisions
    assert list(decision.selected) == [best] and decision.best == {"CHGNet": best}
    assert decision.dft_ranking[0][0] == best and decision.dft_best_matches == {"CHGNet": True}
