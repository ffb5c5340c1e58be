"""Multilayers, heterostructures, slabs and compounds against known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from anodescreen.analysis.energies import capacity
from anodescreen.errors import AnodescreenError
from anodescreen.structures import adsorption_sites
from anodescreen.structures._geometry import min_distance
from anodescreen.structures._matching import lattice_matches
from anodescreen.structures.compounds import COMPOUNDS, compound
from anodescreen.structures.graphene import PRIMITIVE
from anodescreen.structures.heterostructure import graphene_mos2, heterostructure_candidates, mos2_monolayer
from anodescreen.structures.intercalation import metal_multilayer_bilayer, metal_planes
from anodescreen.structures.slabs import metal_slab, sei_slab

# DOMAIN.md §3 (Chepkasov et al. 2020), host+metal mass, mAh/g
TABLE = {"Li": [177, 595, 828, 1020], "Na": [160, 335, 439, 521], "K": [146, 214, 277, 326],
         "Rb": [116, 142, 173, 200], "Cs": [96, 105, 125, 140]}


def test_mos2_2h_geometry():
    m = mos2_monolayer("2H")
    assert m.lattice.a == pytest.approx(3.16)
    mo = [i for i, s in enumerate(m) if s.species_string == "Mo"][0]
    bonds = [n.nn_distance for n in m.get_neighbors(m[mo], 2.6)]
    # trigonal prismatic: six S at sqrt((a/√3)² + (3.17/2)²)
    assert bonds == pytest.approx([math.hypot(3.16 / math.sqrt(3), 3.17 / 2)] * 6, abs=1e-6)
    assert bonds[0] == pytest.approx(2.417, abs=0.001)


def test_mos2_1tprime_has_dimerised_mo_chains():
    m = mos2_monolayer("1T'")
    mo_mo = sorted({round(n.nn_distance, 3) for s in m if s.species_string == "Mo"
                    for n in m.get_neighbors(s, 3.3) if n.species_string == "Mo"})
    assert mo_mo[0] == pytest.approx(2.77, abs=1e-3)  # the Mo–Mo dimer of 1T′
    assert min_distance(m) > 2.2


def test_graphene_on_4x4_mos2_is_a_known_coincidence_cell():
    # 5x5 graphene (12.30 Å) on 4x4 MoS2 (12.64 Å): 2.7-2.8 % strain, no twist (DOMAIN.md §1)
    cells = heterostructure_candidates("2H", 0.03, 150)
    aligned = [c for c in cells if abs(c.twist) < 1e-6 and round(c.area) == round(16 * 3.16**2 * math.sqrt(3) / 2)]
    assert aligned and aligned[0].max_strain == pytest.approx(1 - 5 * 2.4595 / 12.64, abs=1e-3)
    assert [round(c.area, 6) for c in cells] == sorted(round(c.area, 6) for c in cells)
    # no cell is a repeat of a smaller one with the same strain and |twist|
    for i, big in enumerate(cells):
        for small in cells[:i]:
            multiple = abs(big.area / small.area - round(big.area / small.area)) < 1e-6
            assert not (multiple and abs(big.max_strain - small.max_strain) < 1e-6
                        and abs(abs(big.twist) - abs(small.twist)) < 1e-3)
    h = graphene_mos2("2H", match=cells.index(aligned[0]))
    assert h.properties["label"] == "G(5x5)/MoS2-2H(4x4)"
    assert h.composition.as_dict() == {"Mo": 16, "S": 32, "C": 50}


def test_heterostructure_interface_and_outside_sites():
    h = graphene_mos2("2H")
    for region in ("gallery", "top", "bottom"):
        assert adsorption_sites(h, region=region)


def test_lattice_match_of_identical_lattices_is_unstrained():
    (first, *_) = lattice_matches(PRIMITIVE, PRIMITIVE, 0.01, 20)
    assert first.max_strain == pytest.approx(0, abs=1e-9) and abs(first.twist) < 1e-9
    with pytest.raises(AnodescreenError, match="impossible"):
        lattice_matches(PRIMITIVE, PRIMITIVE, 0.0)


@pytest.mark.parametrize("order", ["reversed", "film rotated 60°", "mirror first"])
def test_a_multilayer_does_not_depend_on_the_order_pymatgen_yields_matches_in(order, monkeypatch):
    """A 2-layer hcp K film in bilayer graphene: the generator may yield the same coincidence cell with
    the film vectors rotated by a film symmetry (its second plane then lands on C instead of B) or the
    ±twist mirror images in either order; the built structure is the same (same calc key)."""
    import dataclasses

    import anodescreen.structures._matching as matching
    from anodescreen.core.plan import structure_fingerprint

    reference = structure_fingerprint(metal_multilayer_bilayer("K", "AA", 2))
    rot = np.array([[0.5, -np.sqrt(3) / 2, 0], [np.sqrt(3) / 2, 0.5, 0], [0, 0, 1]])
    plain = matching.ZSLGenerator

    class Reordered(plain):
        def __call__(self, *args, **kwargs):
            found = list(super().__call__(*args, **kwargs))
            if order == "film rotated 60°":
                return [dataclasses.replace(m, film_sl_vectors=np.asarray(m.film_sl_vectors) @ rot.T) for m in found]
            if order == "mirror first":
                return sorted(found, key=lambda m: -np.linalg.det(np.asarray(m.substrate_sl_vectors)[:, :2]))
            return found[::-1]

    monkeypatch.setattr(matching, "ZSLGenerator", Reordered)
    assert structure_fingerprint(metal_multilayer_bilayer("K", "AA", 2)) == reference


@pytest.mark.parametrize("lattice", ["fcc", "hcp", "bcc"])
def test_metal_planes_keep_the_bulk_atomic_volume(lattice):
    vectors, _, spacing = metal_planes("K", lattice)
    area = abs(np.linalg.det(vectors))
    assert area * spacing == pytest.approx(5.23**3 / 2, rel=1e-9)  # bcc K, 2 atoms per a³


@pytest.mark.parametrize("metal", TABLE)
def test_multilayer_stoichiometry_against_the_capacity_table(metal):
    """Reported, not forced: the builder's density is within 10 % of the published table."""
    values = []
    for layers in (2, 3, 4):
        s = metal_multilayer_bilayer(metal, "AB", layers)
        assert s.properties["strain"] <= 0.05 and min_distance(s) > 1.3
        values.append(capacity(s.composition[metal], f"C{int(s.composition['C'])}", metal, True))
    assert values == sorted(values)  # more layers store more metal
    for value, published in zip(values, TABLE[metal][1:]):
        assert abs(value / published - 1) < 0.10


def test_cu111_has_four_sites_and_fcc_nearest_neighbour():
    slab = metal_slab("Cu", (1, 1, 1), 4, (2, 2))
    assert min_distance(slab) == pytest.approx(3.61 / math.sqrt(2), abs=1e-3)
    assert sorted(s.label for s in adsorption_sites(slab)) == ["Cu-hollow", "bridge", "hollow", "top"]


def test_sei_slabs_are_stoichiometric():
    for formula, miller in (("LiF", (1, 0, 0)), ("NaF", (1, 0, 0)), ("Li2O", (1, 1, 1))):
        slab = sei_slab(formula, miller)
        assert slab.composition.reduced_formula == formula


@pytest.mark.parametrize("formula", COMPOUNDS)
def test_compound_prototypes(formula):
    c = compound(formula)
    assert c.composition.reduced_formula == formula
    expected = {"rocksalt": 225, "B2": 221, "antifluorite": 225, "anti-CdCl2": 166, "2H": 194, "P6/mmm": 191,
                "MC6": 191}[COMPOUNDS[formula][0]]
    assert SpacegroupAnalyzer(c).get_space_group_number() == expected


def test_bad_inputs():
    with pytest.raises(AnodescreenError, match="phase"):
        mos2_monolayer("3R")
    with pytest.raises(AnodescreenError, match="Miller"):
        metal_slab("Cu", (0, 0, 0))
    with pytest.raises(AnodescreenError, match="layers"):
        metal_multilayer_bilayer("K", layers=5)
    with pytest.raises(AnodescreenError, match="no prototype"):
        compound("XeF6")


def test_metal_film_at_the_heterostructure_interface():
    from anodescreen.structures.heterostructure import metal_film_heterostructure

    film = metal_film_heterostructure("K", 2)
    host = graphene_mos2(repeat=film.properties["repeat"])
    # same MoS2 and graphene, now with a K film between them
    assert {e: film.composition[e] for e in ("Mo", "S", "C")} == host.composition.as_dict()
    assert film.properties["metal_strain"] <= 0.05 and min_distance(film) > 1.3
    z = {e: [s.coords[2] for s in film if s.species_string == e] for e in ("S", "K", "C")}
    assert max(z["S"]) < min(z["K"]) and max(z["K"]) < min(z["C"])  # K between S and graphene
    assert len({round(v, 3) for v in z["K"]}) == 2  # two planes


def test_an_impossible_film_cell_names_the_cells_that_exist():
    """A Cs close-packed plane (a ≈ 5.3 Å, 24 Å² per atom) has no cell on graphene within 5 % up to 40 Å²;
    the error lists the least strained ones, 2x2 graphene (21 Å², one Cs per layer) first."""
    from anodescreen.structures import metal_multilayer_bilayer

    with pytest.raises(AnodescreenError, match=r"cells that exist: 2x2 \(1 atoms/layer, 8\.\d %\)") as exc:
        metal_multilayer_bilayer("Cs", "AB", 2, max_strain=0.05, max_area=40)
    assert exc.value.field == "max_strain" and "r3xr3" in exc.value.message
