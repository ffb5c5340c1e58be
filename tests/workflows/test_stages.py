"""The one stage runner: stage names from the requested properties, each relaxation plan built once."""

from __future__ import annotations

from anodescreen.workflows import stages as stages_module
from anodescreen.workflows.spec import CampaignSpec
from anodescreen.workflows.stages import FOLLOWUP_STAGE, Stages, stage_names

FUNNEL = {"name": "f", "hosts": [{"family": "graphene", "size": "2x2"}], "references": ["bulk"],
          "calculations": ["binding_energy", "diffusion_barrier", "bader_charge"],
          "engine": {"name": "cp2k"}, "funnel": {"screen": ["CHGNet", "SevenNet"]}}


def test_stages_follow_the_requested_properties():
    spec = CampaignSpec.model_validate(FUNNEL)
    assert stage_names(spec) == ["screen CHGNet", "screen SevenNet", "DFT cp2k", "NEB endpoints", FOLLOWUP_STAGE]
    charges = CampaignSpec.model_validate({**FUNNEL, "calculations": ["binding_energy", "bader_charge"]})
    assert stage_names(charges)[-2:] == ["DFT cp2k", FOLLOWUP_STAGE]  # no endpoint stage without NEB
    loading = CampaignSpec.model_validate({"name": "s", "hosts": [{"family": "sac", "metals": ["Zn"]}],
                                           "calculations": ["sac_distortion"], "sac_loading": [1]})
    assert stage_names(loading) == ["compute"]  # one atom: no follow-up
    assert stage_names(loading.model_copy(update={"sac_loading": [1, 2]})) == ["compute", FOLLOWUP_STAGE]


def test_every_stage_of_a_two_potential_funnel_with_neb_plans_the_relaxations_three_times(memory_stores,
                                                                                          monkeypatch):
    """Once per screening potential and once for DFT, however many stages and decisions need them
    (before the runner was shared, one such run planned the campaign about 14 times)."""
    calls = []
    real = stages_module.plan_campaign

    def counting(spec, engine=None, allowed=None):
        calls.append(engine.name if engine is not None else None)
        return real(spec, engine, allowed)

    monkeypatch.setattr(stages_module, "plan_campaign", counting)
    stages = Stages(CampaignSpec.model_validate(FUNNEL), memory_stores)
    for index in range(len(stages.names)):
        work = stages.work(index)
        stages.finish(index, work.plan.quantities)
    assert calls == ["mlip", "mlip", "cp2k"]
    # nothing screened yet: no potential gives a ranking, so DFT gets every site; the decisions
    # recorded after the DFT stage survive the NEB stages that follow it
    decisions = memory_stores.campaigns.query_one({"name": "f"})["funnel"]
    assert sorted(decisions[0]["selected"]) == ["bridge", "hollow", "top"]
