"""A real (MLIP) campaign end to end: plan, compute, harvest, re-run, failures."""

from __future__ import annotations

import pytest
from pymatgen.core import Structure

from anodescreen.analysis.energies import binding_energy
from anodescreen.engines import MLIPEngine
from anodescreen.launchers.local import run_campaign, run_plan
from anodescreen.db.calcs import stored_calcs
from anodescreen.workflows.plan import plan_campaign
from anodescreen.workflows.spec import CampaignSpec

SPEC = {
    "name": "tiny",
    "hosts": [{"family": "graphene", "size": "2x2"}, {"family": "bilayer", "stackings": ["AA"]}],
    "adsorbates": [{"element": "Li"}],
}


@pytest.fixture(scope="module")
def engine():
    return MLIPEngine(fmax=0.1)


def test_plan_is_deterministic_and_complete():
    spec = CampaignSpec.model_validate(SPEC)
    a, b = plan_campaign(spec), plan_campaign(spec)
    assert list(a.calcs) == list(b.calcs)
    # Li-bcc, Li-atom, G(2x2) + 3 sites, BLG-AA + 3 gallery sites
    assert len(a.calcs) == 10
    assert sorted(q.site for q in a.quantities) == sorted(["hollow", "bridge", "top"] * 2)
    assert {q.kind for q in a.quantities} == {"binding_energy", "intercalation_energy"}


@pytest.mark.slow
def test_campaign_rows_follow_the_definitions_and_rerun_adds_nothing(memory_stores, engine):
    spec = CampaignSpec.model_validate({**SPEC, "engine": engine.model_dump()})
    plan = plan_campaign(spec)
    first = run_plan(plan, memory_stores)
    assert first.computed == 10 and not first.failed
    assert first.harvest.new == 12  # 6 quantities × (bulk, atom) references
    rows = list(memory_stores.results.query({}))
    calcs = {k: doc for k, (doc, _) in stored_calcs(memory_stores, list(plan.calcs)).items()}
    for row in rows:
        complex_, host, ref = (calcs[row["calc_keys"][r]] for r in ("complex", "host", "reference"))
        mu = ref.energy / ref.n_sites
        assert row["value"] == pytest.approx(binding_energy(complex_.energy, host.energy, mu), abs=1e-6)
        assert row["level_of_theory"]["engine"] == "mlip" and row["is_dft"] is False
        assert row["reference_states"][0]["label"] == ("Li-bcc" if row["reference"] == "bulk" else "Li-atom")
        assert row["definition"].startswith("E_")
        assert Structure.from_dict(row["structure"]).composition["Li"] == 1
        assert set(row["job_ids"]) == {"complex", "host", "reference"}
    # bulk and atom references differ by the (MLIP) cohesive energy, the same for every row:
    # Li's is 1.63 eV (Kittel, Introduction to Solid State Physics, table 3.1); CHGNet 0.3.0 gives 1.40
    by_site = {}
    for row in rows:
        by_site.setdefault((row["host"]["label"], row["site"]), {})[row["reference"]] = row["value"]
    gaps = [v["bulk"] - v["atom"] for v in by_site.values()]
    assert max(gaps) - min(gaps) < 1e-5
    assert min(gaps) == pytest.approx(1.63, abs=0.3)
    # every relaxation says how it ended and, for slabs, the net normal force on each layer, which
    # Newton's third law makes sum to the total force along c (≈ 0 for a potential)
    for doc in calcs.values():
        if doc.task == "relax":
            assert doc.stopped_on == "fmax" and len(doc.layer_forces) >= 1
            assert abs(sum(doc.layer_forces)) < 1e-3
    gallery = next(r for r in rows if r["kind"] == "intercalation_energy")
    spacings = gallery["details"]["interlayer_distances"]  # sheet–Li–sheet of the relaxed C6LiC6
    assert len(spacings) == 2 and 3.0 < sum(spacings) < 4.5
    second = run_plan(plan_campaign(spec), memory_stores)
    assert second.computed == 0 and second.reused == 10
    assert second.harvest.new == 0 and second.harvest.unchanged == 12
    assert memory_stores.results.count() == 12


@pytest.mark.slow
def test_failed_calculation_is_recorded_and_campaign_carries_on(memory_stores):
    spec = CampaignSpec.model_validate({**SPEC, "engine": {"name": "mlip", "max_steps": 1, "fmax": 0.001}})
    report = run_plan(plan_campaign(spec), memory_stores)
    assert report.computed == 10
    reasons = dict(report.failed)
    assert "Li-atom" not in reasons  # a static calculation needs no convergence
    # pristine graphene has zero forces by symmetry and converges; Li on top of C does not
    assert reasons["G(2x2)/Li@top"].startswith("not converged after 1 steps")
    stored = [d["output"] for d in memory_stores.jobstore.query({"output.state": "failed"})]
    assert len(stored) == len(report.failed) and all(d["reason"] for d in stored)
    # a relaxation capped by max_steps is stored as such, never as converged
    relaxations = [d for d in stored if d["task"] == "relax"]
    assert relaxations and all(d["stopped_on"] == "max_steps" and not d["converged"] for d in relaxations)
    harvested = report.harvest
    assert harvested.failed >= 1 and memory_stores.results.count() == 2 * (6 - harvested.failed)
    # re-running does not retry failures unless asked
    assert run_plan(plan_campaign(spec), memory_stores).computed == 0


def test_plan_for_multilayers_heterostructures_and_slabs():
    spec = CampaignSpec.model_validate({
        "name": "families",
        "hosts": [
            {"family": "bilayer", "stackings": ["AB"], "layers": [2]},
            {"family": "heterostructure", "regions": ["gallery", "top"]},
            {"family": "slab", "material": "LiF", "miller": [1, 0, 0], "layers": 2},
        ],
        "adsorbates": [{"element": "K"}],
    })
    plan = plan_campaign(spec)
    film = [q for q in plan.quantities if q.kind == "intercalation_energy"]
    assert len(film) == 1 and film[0].site == "hcp-2L"
    complex_ = plan.calcs[film[0].complex_key].structure
    host = plan.calcs[film[0].host_key].structure
    # the host is the same carbon cell without the metal film; the count is the film's atoms
    assert complex_.composition["C"] == host.composition["C"] and host.composition["K"] == 0
    assert film[0].adsorbate.count == complex_.composition["K"] == 8
    hetero = {q.region for q in plan.quantities if q.host.family == "heterostructure"}
    assert hetero == {"gallery", "top"}
    slab_sites = sorted(q.site for q in plan.quantities if q.host.family == "slab")
    assert slab_sites == ["F-Li-bridge", "F-top", "Li-top", "hollow"]
    assert all(q.adsorbate.count == 1 for q in plan.quantities if q.kind == "binding_energy")


def test_heterostructure_film_is_an_intercalation_quantity():
    spec = CampaignSpec.model_validate({
        "name": "films", "adsorbates": [{"element": "Na"}],
        "hosts": [{"family": "heterostructure", "regions": ["gallery"], "films": [1]}],
    })
    plan = plan_campaign(spec)
    kinds = {(q.kind, q.adsorbate.count > 1) for q in plan.quantities}
    assert ("intercalation_energy", True) in kinds and ("binding_energy", False) in kinds
    film = next(q for q in plan.quantities if q.kind == "intercalation_energy")
    assert film.host.label != next(q for q in plan.quantities if q.kind == "binding_energy").host.label


def test_relabelled_rows_are_replaced_not_duplicated(memory_stores):
    """A row of the same calculations under an old label is superseded by the new one."""
    from anodescreen.db.schema import ResultRow
    from anodescreen.workflows.harvest import _drop_superseded

    base = {"kind": "binding_energy", "reference": "bulk", "value": -1.0, "lot_key": "L",
            "calc_keys": {"complex": "c", "host": "h", "reference": "r"}}
    memory_stores.results.update([{**base, "row_id": "old"}, {**base, "row_id": "other",
                                  "calc_keys": {"complex": "c", "host": "h", "reference": "r2"}}], key="row_id")
    new = ResultRow.model_construct(row_id="new", kind="binding_energy", reference="bulk",
                                    calc_keys=base["calc_keys"])
    assert _drop_superseded(memory_stores, [new]) == 1
    assert sorted(d["row_id"] for d in memory_stores.results.query({})) == ["other"]


def test_reference_states_are_shared_across_relaxation_settings_but_not_theories():
    from anodescreen.engines import Cp2kEngine, MLIPEngine
    from anodescreen.workflows.plan import plan_campaign
    from anodescreen.workflows.spec import CampaignSpec

    spec = CampaignSpec.model_validate({"name": "r", "hosts": [{"family": "graphene", "size": "3x3"}]})

    def keys(engine):
        plan = plan_campaign(spec, engine)
        return {r.label: k for k, r in plan.calcs.items()}

    loose, tight = keys(MLIPEngine(fmax=0.05)), keys(MLIPEngine(fmax=0.02))
    assert loose["Li-bcc"] == tight["Li-bcc"] and loose["Li-atom"] == tight["Li-atom"]
    assert loose["G(3x3)"] != tight["G(3x3)"]  # hosts and complexes do depend on the settings
    assert keys(Cp2kEngine())["Li-bcc"] != loose["Li-bcc"]


@pytest.mark.slow
def test_sites_around_a_vacancy_that_relax_into_one_minimum_are_reported(memory_stores, tmp_path):
    """Li near a single vacancy of 3x3 graphene: the four sites within 2.5 Å of it all relax (CHGNet) to
    the hollow over the vacancy; every row names the others and the harvest reports the group."""
    spec = CampaignSpec.model_validate({
        "name": "sv_minima", "hosts": [{"family": "graphene", "size": "3x3", "defects": ["sv"], "site_radius": 2.5}],
        "references": ["bulk"], "calculations": ["binding_energy"],
        # top#2 crosses a flat stretch: 413 BFGS steps on the development machine (default cap 300)
        "engine": {"name": "mlip", "fmax": 0.05, "max_steps": 1000}})
    report = run_campaign(spec, memory_stores, root_dir=tmp_path)
    rows = {d["site"]: d for d in memory_stores.results.query({"kind": "binding_energy"})}
    assert sorted(rows) == ["bridge", "hollow", "top#1", "top#2"]
    for site, row in rows.items():
        assert row["details"]["same_minimum_as"] == sorted(set(rows) - {site})
        assert row["final_site"] == "hollow"
    assert max(r["value"] for r in rows.values()) - min(r["value"] for r in rows.values()) < 0.002
    assert report.stages[0][1].harvest.notes == [
        "G(3x3)-sv/Li: bridge, hollow, top#1, top#2 relaxed into one minimum"]
