"""Properties as plug-ins: registry, definitions, planning and a property added in one module."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from anodescreen.analysis.geometry import adsorption_height
from anodescreen.errors import AnodescreenError
from anodescreen.properties import KINDS, PROPERTIES, report_sections
from anodescreen.structures import add_adsorbate, adsorption_sites, graphene
from anodescreen.structures.data import covalent_radius
from anodescreen.structures.sites import CONTACT_FACTOR
from anodescreen.workflows.plan import plan_campaign
from anodescreen.workflows.spec import CampaignSpec


def test_every_row_kind_states_its_unit_and_definition_once():
    assert set(KINDS) >= {"binding_energy", "intercalation_energy", "formation_energy", "diffusion_barrier",
                          "bader_charge", "charge_depletion", "sac_distortion", "adsorption_height"}
    assert KINDS["binding_energy"].definition == "E_b = E(host+M) - E(host) - mu_M"
    assert {KINDS[k].unit for k in ("binding_energy", "diffusion_barrier")} == {"eV"}
    assert KINDS["formation_energy"].unit == "eV/atom" and KINDS["bader_charge"].unit == "e"
    assert [s.title for s, _ in report_sections()] == ["Energies", "Diffusion barriers (NEB)",
                                                       "Charge-density difference Δρ(z)"]
    assert report_sections()[0][1] == ("binding_energy", "intercalation_energy", "formation_energy")


def test_a_property_the_engine_cannot_compute_is_refused_by_the_spec():
    with pytest.raises(ValueError, match="bader_charge needs a charge density"):
        CampaignSpec.model_validate({"name": "b", "hosts": [{"family": "graphene"}],
                                     "calculations": ["bader_charge"]})
    with pytest.raises(ValueError, match="calculations"):
        CampaignSpec.model_validate({"name": "b", "hosts": [{"family": "graphene"}], "calculations": ["colour"]})
    assert list(PROPERTIES)[:3] == ["binding_energy", "intercalation_energy", "formation_energy"]


def test_adsorption_height_is_the_distance_to_the_outer_layer_plane():
    sheet = graphene("2x2")
    z = sheet.cart_coords[:, 2].max()
    flat = Structure(sheet.lattice, [*sheet.species, "Li"], [*sheet.cart_coords, [0.0, 0.0, z + 1.73]],
                     coords_are_cartesian=True)
    assert adsorption_height(flat, len(flat) - 1) == pytest.approx(1.73, abs=1e-9)
    under = Structure(sheet.lattice, [*sheet.species, "Li"], [*sheet.cart_coords, [0.0, 0.0, z - 2.0]],
                      coords_are_cartesian=True)
    assert adsorption_height(under, len(under) - 1, "bottom") == pytest.approx(2.0, abs=1e-9)
    # on top of a carbon atom the builder places Li at 1.05 x (r_Li + r_C) above it
    top = next(s for s in adsorption_sites(sheet) if s.label == "top")
    built = add_adsorbate(sheet, "Li", top)
    contact = CONTACT_FACTOR * (covalent_radius("Li") + covalent_radius("C"))
    assert adsorption_height(built, len(built) - 1) == pytest.approx(contact, abs=1e-6)
    with pytest.raises(AnodescreenError, match="region"):
        adsorption_height(built, 0, "gallery")
    lattice = Lattice.cubic(5.0)
    assert np.isclose(adsorption_height(Structure(lattice, ["C", "Li"], [[0, 0, 0], [0, 0, 0.3]]), 1), 1.5)


def test_adsorption_height_is_planned_on_surface_sites_only():
    spec = CampaignSpec.model_validate({
        "name": "h", "hosts": [{"family": "graphene", "size": "2x2"}, {"family": "bilayer", "stackings": ["AA"]}],
        "calculations": ["binding_energy", "adsorption_height"], "references": ["bulk"]})
    plan = plan_campaign(spec)
    heights = sorted(q.site for q in plan.quantities if q.kind == "adsorption_height")
    binding = sorted(q.site for q in plan.quantities if q.kind == "binding_energy")
    assert heights == binding == ["bridge", "hollow", "top"]
    assert all(q.reference_keys == {} for q in plan.quantities if q.kind == "adsorption_height")
    # the bilayer's gallery gives no height and, without intercalation_energy, no quantity at all
    assert not [q for q in plan.quantities if q.host.family == "bilayer"]
