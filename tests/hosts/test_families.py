"""Host families as plug-ins: the registry drives the spec, the plan and `build`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from anodescreen.hosts import FAMILIES
from anodescreen.workflows.plan import expand_hosts, host_complexes, plan_campaign
from anodescreen.workflows.spec import CampaignSpec, validation_message


def test_the_spec_takes_exactly_the_registered_families():
    for name in FAMILIES:
        fields = {"metals": ["Fe"]} if name == "sac" else {"material": "Cu"} if name == "slab" else {}
        CampaignSpec.model_validate({"name": "f", "hosts": [{"family": name, **fields}]})
    with pytest.raises(ValidationError) as exc:
        CampaignSpec.model_validate({"name": "f", "hosts": [{"family": "moon"}]})
    assert "moon" in validation_message(exc.value) or "family" in validation_message(exc.value)


def test_mos2_monolayer_has_the_four_sites_of_the_2h_surface():
    """2H-MoS2's S face (P-6m2): on top of S, above Mo (the hollow of S over a Mo atom), above the
    empty hollow, and the S-S bridge; Li binds above Mo."""
    spec = CampaignSpec.model_validate({"name": "m", "hosts": [{"family": "mos2", "size": "3x3"}],
                                        "adsorbates": [{"element": "Li"}], "references": ["bulk"]})
    (host,) = expand_hosts(spec, "Li")
    assert host.info.label == "MoS2-2H(3x3)" and host.info.phase == "2H"
    assert host.structure.composition.reduced_formula == "MoS2" and len(host.structure) == 27
    sites = sorted(label for label, _ in host_complexes(host, "Li"))
    assert sites == ["Mo-hollow", "bridge", "hollow", "top"]
    plan = plan_campaign(spec)
    assert sorted(q.site for q in plan.quantities) == sites
    assert {q.kind for q in plan.quantities} == {"binding_energy"}


def test_bilayer_complexes_keep_the_hosts_vacuum():
    spec = CampaignSpec.model_validate({"name": "v", "hosts": [{"family": "bilayer", "stackings": ["AA"],
                                                               "vacuum": 20.0}]})
    (host,) = expand_hosts(spec, "Li")
    cells = {round(s.lattice.c - (max(s.cart_coords[:, 2]) - min(s.cart_coords[:, 2])), 6)
             for _, s in host_complexes(host, "Li")}
    assert cells == {20.0}
