"""Campaign steps beyond energies: NEB barriers, SAC distortion and Bader/Δρ(z) rows in the store."""

from __future__ import annotations

import pytest
from conftest import CHEAP, tiny_spec
from pydantic import ValidationError
from pymatgen.core import Structure

from anodescreen.launchers.local import run_campaign, run_plan
from anodescreen.properties import KINDS
from anodescreen.workflows.spec import CampaignSpec


def _rows(stores, kind: str) -> dict[str, dict]:
    return {d["site"]: d for d in stores.results.query({"kind": kind})}


@pytest.mark.slow
def test_diffusion_barriers_on_graphene_are_stored_with_their_profiles(memory_stores, tmp_path):
    spec = CampaignSpec.model_validate(tiny_spec(
        "neb_g2x2", calculations=["binding_energy", "diffusion_barrier"], neb={"images": 3, "fmax": 0.1},
        engine={"name": "mlip", "fmax": 0.05}))
    report = run_campaign(spec, memory_stores, root_dir=tmp_path)
    assert [name for name, _ in report.stages] == ["compute", "NEB endpoints", "NEB and charges"]
    barriers = _rows(memory_stores, "diffusion_barrier")
    # 6 hops, 12 endpoints, but each endpoint is relaxed once: one per site (hollow, bridge, top)
    assert len(barriers) == 6 and report.stages[1][1].computed == 3
    assert "hollow→hollow via bridge" in barriers
    row = barriers["hollow→hollow via bridge"]
    details = row["details"]
    # equivalent endpoints: forward and reverse barriers agree, the saddle is inside the path
    assert details["forward"] == pytest.approx(details["reverse"], abs=0.02)
    assert row["value"] == pytest.approx(details["forward"], abs=1e-6) and row["value"] >= 0
    assert 0 < details["saddle_image"] < 4
    assert len(details["images"]) == len(details["energies"]) == 5 and details["force_calls"] > 5
    assert row["reference"] == "none" and row["unit"] == "eV" and "climbing-image" in details["method"]
    typed = KINDS["diffusion_barrier"].details.model_validate(details)  # the row kind's typed details
    assert typed.forward == pytest.approx(row["value"], abs=1e-6) and typed.path[0] == 0 and 2.4 < typed.path[-1] < 3.0  # one a = 2.46 Å
    again = run_campaign(spec, memory_stores, root_dir=tmp_path)
    assert all(r.computed == 0 for _, r in again.stages)  # a re-run computes nothing


@pytest.mark.slow
def test_sac_distortion_rows_compare_relaxed_pocket_with_and_without_the_alkali(memory_stores, tmp_path):
    spec = CampaignSpec.model_validate({
        "name": "sac_dist", "hosts": [{"family": "sac", "metals": ["Fe"], "size": "4x4", "site_radius": 0.5}],
        "adsorbates": [{"element": "Li"}], "calculations": ["sac_distortion"], "references": [],
        "engine": {"name": "mlip", "fmax": 0.1}})
    run_campaign(spec, memory_stores, root_dir=tmp_path)
    rows = _rows(memory_stores, "sac_distortion")
    assert rows and not _rows(memory_stores, "binding_energy")  # no reference asked for: no energies
    for row in rows.values():
        d = row["details"]
        assert d["pristine"]["coordination"] == d["loaded"]["coordination"] == 4
        assert all(1.7 < b < 2.2 for b in d["pristine"]["bonds"])  # Fe-N
        assert row["value"] == pytest.approx(d["max_bond_change"], abs=1e-6) and row["unit"] == "Å"


def test_charges_need_a_density_engine():
    with pytest.raises(ValidationError, match="bader_charge needs a charge density"):
        CampaignSpec.model_validate({"name": "x", "hosts": [{"family": "graphene"}],
                                     "calculations": ["bader_charge"]})


@pytest.mark.long
def test_bader_and_depletion_rows_of_the_best_site_with_real_cp2k(cp2k, memory_stores, tmp_path):
    """Li on 1x1 graphene (cheap numerics, loose relaxation): Li loses electrons, Δq_z < 0."""
    engine = {"name": "cp2k", "kspacing": 0.6, **CHEAP, "fmax": 1.0}
    spec = CampaignSpec.model_validate({
        "name": "charges_g1x1", "hosts": [{"family": "graphene", "size": "1x1", "vacuum": 8.0}],
        "adsorbates": [{"element": "Li"}], "calculations": ["bader_charge"], "references": [], "engine": engine})
    run_campaign(spec, memory_stores, root_dir=tmp_path)
    (bader,) = _rows(memory_stores, "bader_charge").values()
    (depletion,) = _rows(memory_stores, "charge_depletion").values()
    assert bader["site"] == depletion["site"]  # the most favourable site only
    assert 0.1 < bader["value"] < 1.0 and bader["is_dft"]
    assert sum(bader["details"]["charges"]) == pytest.approx(0.0, abs=1e-2)  # a neutral cell
    assert depletion["value"] < 0 and len(depletion["details"]["z"]) == len(depletion["details"]["line_density"])


@pytest.mark.slow
def test_gallery_hops_in_ab_bilayer_start_from_the_opened_gap(memory_stores, tmp_path):
    """Li between AB graphene layers: every gallery hop is planned on the gap Li opened; a hop
    between the two hollow-top sites (equivalent by the symmetry swapping the layers) has equal
    forward and reverse barriers. VASP PBE-D3 puts this hop near 0.07 eV (npj Unconv. Comput. 2, 28)."""
    from anodescreen.workflows.harvest import harvest
    from anodescreen.core.plan import Plan
    from anodescreen.workflows.stages import FOLLOWUP_STAGE, Stages

    spec = CampaignSpec.model_validate({
        "name": "blg_hops", "hosts": [{"family": "bilayer", "stackings": ["AB"], "size": "3x3"}],
        "adsorbates": [{"element": "Li"}], "calculations": ["intercalation_energy", "diffusion_barrier"],
        "references": ["bulk"], "neb": {"images": 3, "fmax": 0.1}, "engine": {"name": "mlip", "fmax": 0.05}})
    report = run_campaign(spec.model_copy(update={"calculations": ["intercalation_energy"]}), memory_stores,
                          root_dir=tmp_path)
    assert report.stages[0][1].failed == []
    # the NEB stage without the endpoint stage run: each NEB relaxes its own endpoints
    stages = Stages(spec, memory_stores)
    follow = stages.plan(stages.names.index(FOLLOWUP_STAGE))
    hops = {q.site: q for q in follow.quantities}
    # AB gallery: sites hollow-top (×2 per cell, equivalent), hollow-bridge, top; six distinct hops
    assert set(hops) == {"hollow-top→hollow-top", "hollow-top→hollow-bridge", "hollow-top→top via hollow-bridge",
                         "hollow-bridge→hollow-bridge", "hollow-bridge→top", "top→top"}
    request = follow.calcs[hops["hollow-top→hollow-top"].complex_key]
    z = sorted(s.coords[2] for s in request.structure if s.specie.symbol == "C")
    assert z[18] - z[17] > 3.6  # the gap Li opened (pristine AB: 3.35 Å)
    one = Plan(spec, follow.engine)
    one.calcs = {request.key(follow.engine): request}
    one.quantities = [hops["hollow-top→hollow-top"]]
    run_plan(one, memory_stores, root_dir=tmp_path)
    assert harvest(one.quantities, spec.name, memory_stores).failed == 0
    d = _rows(memory_stores, "diffusion_barrier")["hollow-top→hollow-top"]["details"]
    assert d["forward"] == pytest.approx(d["reverse"], abs=0.03)
    assert 0 <= d["forward"] < 0.5


@pytest.mark.slow
def test_sac_distortion_grows_with_the_number_of_alkali_atoms_around_the_metal(memory_stores, tmp_path):
    spec = CampaignSpec.model_validate({
        "name": "sac_load", "hosts": [{"family": "sac", "metals": ["Fe"], "size": "4x4", "site_radius": 0.5}],
        "adsorbates": [{"element": "Li"}], "calculations": ["sac_distortion"], "references": [],
        "sac_loading": [1, 2, 4], "engine": {"name": "mlip", "fmax": 0.1}})
    report = run_campaign(spec, memory_stores, root_dir=tmp_path)
    assert [name for name, _ in report.stages] == ["compute", "NEB and charges"]
    rows = {}
    for row in memory_stores.results.query({"kind": "sac_distortion"}):
        rows[(row["adsorbate"]["count"], row["site"])] = row
    counts = sorted({n for n, _ in rows})
    assert counts == [1, 2, 4]
    for (n, _site), row in rows.items():
        loaded = row["details"]["loaded"]
        assert row["adsorbate"]["count"] == n and loaded["coordination"] == 4
        structure = Structure.from_dict(row["structure"])
        li = [i for i, s in enumerate(structure) if s.specie.symbol == "Li"]
        assert len(li) == n  # the stored (relaxed) structure holds all n atoms, not clustered
        assert all(structure.get_distance(i, j) > 2.2 for i in li for j in li if i < j)
    # metal-top (the only computed site, site_radius 0.5) has one copy: 2 and 4 atoms go to the
    # sites nearest Fe with enough copies at least 0.8 × d_nn(Li bcc) = 2.43 Å apart
    assert {n: site for n, site in rows if n > 1} == {2: "hollow#1", 4: "N-top"}
