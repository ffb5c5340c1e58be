"""Builders against independently known geometry: bond lengths, registries, counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from anodescreen.errors import AnodescreenError
from anodescreen.structures import (
    adsorption_sites,
    bilayer_graphene,
    bulk_metal,
    defective_graphene,
    gallery_sites,
    graphene,
    intercalated_bilayer,
    isolated_atom,
    sac_site,
)
from anodescreen.structures._geometry import min_distance
from anodescreen.structures.sites import add_adsorbate


def _nearest(structure, i, cutoff=2.5):
    return sorted(n.nn_distance for n in structure.get_neighbors(structure[i], cutoff))


def test_graphene_bond_length_and_lattice():
    g = graphene("3x3")
    assert len(g) == 18
    assert g.lattice.a == pytest.approx(3 * 1.42 * math.sqrt(3), abs=1e-9)
    for i in range(len(g)):
        d = _nearest(g, i, 1.6)
        assert len(d) == 3  # sp2: three neighbours at the C–C distance
        assert d == pytest.approx([1.42] * 3, abs=1e-6)


def _registry(structure):
    """For each upper-sheet atom: is there a lower-sheet atom directly below it?"""
    z = structure.cart_coords[:, 2]
    lower = structure.cart_coords[z < z.mean()]
    upper = structure.cart_coords[z > z.mean()]
    over_atom = []
    for u in upper:
        d = [np.linalg.norm(structure.lattice.get_cartesian_coords(
            np.mod(structure.lattice.get_fractional_coords([*(u[:2] - w[:2]), 0]) + 0.5, 1) - 0.5))
            for w in lower]
        over_atom.append(min(d) < 1e-6)
    return over_atom


def test_aa_and_ab_registries():
    aa = bilayer_graphene("2x2", "AA")
    ab = bilayer_graphene("2x2", "AB")
    assert all(_registry(aa))  # AA: every atom eclipsed
    assert sum(_registry(ab)) == len(ab) // 4  # AB: half of the upper sheet over atoms
    for s in (aa, ab):
        z = sorted(set(np.round(s.cart_coords[:, 2], 6)))
        assert z[1] - z[0] == pytest.approx(3.35, abs=1e-9)


def test_sqrt3_cell_is_c6mc6_with_metal_over_hexagon_centres():
    s = intercalated_bilayer("Li", "AA", "r3xr3")
    assert s.composition.reduced_formula == "LiC12"
    li = [i for i, site in enumerate(s) if site.species_string == "Li"][0]
    # over a hexagon centre of both AA sheets: six C at equal in-plane distance 1.42 Å
    d = sorted(n.nn_distance for n in s.get_neighbors(s[li], 3.0))
    assert len(d) == 12
    assert d == pytest.approx([math.hypot(1.42, 3.706 / 2)] * 12, abs=1e-6)


def test_m_n4_geometry():
    s = sac_site("Fe", "N4")
    assert s.composition.formula.replace(" ", "") == "Fe1C44N4"
    fe = [i for i, site in enumerate(s) if site.species_string == "Fe"][0]
    neighbours = s.get_neighbors(s[fe], 2.3)
    assert sorted(n.species_string for n in neighbours) == ["N"] * 4  # coordination 4
    # unrelaxed divacancy: N at (d, √3/2·d) from the removed bond's centre → √7/2·d = 1.878 Å
    assert [n.nn_distance for n in neighbours] == pytest.approx([1.42 * math.sqrt(7) / 2] * 4, abs=1e-6)
    assert s.site_properties["magmom"][fe] == 4.0
    assert s.properties["label"] == "Fe-N4@G(5x5)"


def test_min_image_distance_sets_supercell():
    assert sac_site("Co", min_image_distance=9.0).properties["label"] == "Co-N4@G(4x4)"
    s = sac_site("Co", min_image_distance=12.3)
    assert s.lattice.a >= 12.3


def test_m_n3_metal_lifted_to_1p9_angstrom():
    s = sac_site("Co", "N3")
    co = [i for i, site in enumerate(s) if site.species_string == "Co"][0]
    n = [x for x in s.get_neighbors(s[co], 2.3) if x.species_string == "N"]
    assert len(n) == 3 and [x.nn_distance for x in n] == pytest.approx([1.90] * 3, abs=1e-6)


@pytest.mark.parametrize(("motif", "formula"), [("N2O2", "Ni1C44N2O2"), ("N3O", "Ni1C44N3O1"),
                                                 ("N2C2", "Ni1C46N2")])
def test_pocket_variants(motif, formula):
    assert sac_site("Ni", motif).composition.formula.replace(" ", "") == formula


def test_pristine_graphene_has_three_unique_sites():
    for size in ("2x2", "3x3", "5x5"):
        assert [s.label for s in adsorption_sites(graphene(size))] == ["hollow", "bridge", "top"]


def test_sac_top_sites_match_spglib_atom_orbits():
    """Independent check: one top site per symmetry orbit of atoms (spglib)."""
    host = sac_site("Fe", "N4")
    sites = adsorption_sites(host, centre=(0.5, 0.5))
    tops = [s for s in sites if s.kind == "top"]
    orbits = SpacegroupAnalyzer(host, symprec=0.01).get_symmetrized_structure().equivalent_indices
    assert len(tops) == len(orbits)
    assert sites[0].label == "metal-top"
    assert {"metal-top", "N-top", "N-metal-bridge", "hollow"} <= {s.label.split("#")[0] for s in sites}


def test_ab_gallery_sites():
    assert [s.label for s in gallery_sites("Li", "AA")] == ["hollow", "bridge", "top"]
    assert [s.label for s in gallery_sites("Li", "AB")] == ["hollow-top", "hollow-bridge", "top"]


def test_builds_are_byte_identical():
    for build in (lambda: sac_site("Fe"), lambda: intercalated_bilayer("K", "AB"),
                  lambda: add_adsorbate(graphene("4x4"), "Na", adsorption_sites(graphene("4x4"))[0])):
        assert build().to(fmt="poscar") == build().to(fmt="poscar")
        assert build().properties == build().properties


def test_no_overlapping_atoms_anywhere():
    structures = [graphene("2x2"), bilayer_graphene("r3xr3", "AB"), sac_site("Zr"), sac_site("Pt", "N3"),
                  defective_graphene("4x4", "sv"), defective_graphene("4x4", "pyridinic-N4"),
                  bulk_metal("Cs"), isolated_atom("K")]
    structures += [intercalated_bilayer(m, st, site=s.label) for m in ("Li", "Na", "K", "Rb", "Cs")
                   for st in ("AA", "AB") for s in gallery_sites(m, st)]
    host = sac_site("Fe")
    structures += [add_adsorbate(host, "Cs", s) for s in adsorption_sites(host, centre=(0.5, 0.5), max_distance=3)]
    for s in structures:
        assert min_distance(s) > 1.3, s.properties.get("label")


def test_adsorbate_moment_only_on_magnetic_hosts():
    """Li seeds a moment (so the complex is spin-polarised) on Fe-N4, not on closed-shell Zn-N4 (d10)."""
    for metal, spin in (("Fe", True), ("Zn", False)):
        host = sac_site(metal, size="3x3")
        s = add_adsorbate(host, "Li", adsorption_sites(host, centre=(0.5, 0.5))[0])
        li = [i for i, x in enumerate(s) if x.species_string == "Li"][0]
        assert (s.site_properties["magmom"][li] == 1.0) is spin
        assert any(m != 0 for m in s.site_properties["magmom"]) is spin


def test_adsorbate_height_from_covalent_radii():
    host = graphene("3x3")
    top = [s for s in adsorption_sites(host) if s.label == "top"][0]
    s = add_adsorbate(host, "Li", top)
    li = [i for i, x in enumerate(s) if x.species_string == "Li"][0]
    # directly over C at 1.05 × (r_Li + r_C) = 1.05 × (1.28 + 0.76) Å
    assert _nearest(s, li)[0] == pytest.approx(1.05 * (1.28 + 0.76), abs=1e-6)


def test_bulk_references():
    li = bulk_metal("Li")
    assert li.properties["label"] == "Li-bcc" and len(li) == 2
    assert min_distance(li) == pytest.approx(3.49 * math.sqrt(3) / 2, abs=1e-6)  # bcc nearest neighbour


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: intercalated_bilayer("Mg"), "metal"),
        (lambda: sac_site("Xx"), "metal"),
        (lambda: sac_site("O"), "metal"),
        (lambda: graphene("3x3", vacuum=0), "vacuum"),
        (lambda: graphene("3y3"), "supercell"),
        (lambda: sac_site("Fe", "N5"), "motif"),
        (lambda: intercalated_bilayer("Li", layers=5), "layers"),
        (lambda: intercalated_bilayer("Li", site="nowhere"), "site"),
        (lambda: bilayer_graphene(stacking="ABC"), "stacking"),
    ],
)
def test_bad_input_names_the_argument(call, field):
    with pytest.raises(AnodescreenError) as info:
        call()
    assert info.value.field == field
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("motif", ["N4", "N3", "N2O2"])
def test_same_pocket_gives_same_sites_for_every_metal(motif):
    """Sites depend on the pocket geometry, not on the metal's atomic radius."""
    labels = {m: [s.label for s in adsorption_sites(sac_site(m, motif), centre=(0.5, 0.5), max_distance=3.0)]
              for m in ("Mn", "Fe", "Zn", "Zr", "Pt")}
    assert len({tuple(v) for v in labels.values()}) == 1, labels


def test_sac_on_bilayer_keeps_ab_registry_under_the_pocket():
    single, double = sac_site("Fe"), sac_site("Fe", bilayer=True)
    assert double.properties["label"] == "Fe-N4@BLG-AB(5x5)"
    assert double.composition["C"] - single.composition["C"] == 50
    over_atom = _registry(double)  # upper-sheet atoms (C, N, Fe) eclipsing a lower C
    assert 0.4 < sum(over_atom) / len(over_atom) < 0.6  # AB: about half
    assert min_distance(double) > 1.3
    sites = lambda host: adsorption_sites(host, centre=(0.5, 0.5), max_distance=2.0)  # noqa: E731
    assert {s.kind for s in sites(double)} == {s.kind for s in sites(single)}
    # the AB under-sheet breaks the pocket's mirror symmetry: N sites split in two,
    # and the pocket hollow lies over a carbon of the lower sheet
    assert {"N-top#1", "N-top#2", "C-hollow"} <= {s.label for s in sites(double)}


@pytest.mark.parametrize(
    ("symbol", "label", "nearest"),
    [("Zn", "Zn-hcp", 2.66), ("Cu", "Cu-fcc", 3.61 / math.sqrt(2)), ("Fe", "Fe-bcc", 2.87 * math.sqrt(3) / 2),
     ("O", "O-dimer", 1.208), ("N", "N-dimer", 1.098), ("C", "C-graphite", 2.46 / math.sqrt(3)),
     ("S", "S-S8", 2.055)],
)
def test_elemental_ground_states(symbol, label, nearest):
    from anodescreen.structures import elemental_reference, reference_structure

    s = elemental_reference(symbol)
    assert s.properties["label"] == label
    assert min_distance(s) == pytest.approx(nearest, abs=1e-3)
    assert reference_structure(label).to(fmt="poscar") == s.to(fmt="poscar")
    if symbol == "O":
        assert sum(s.site_properties["magmom"]) == 2.0  # triplet O2


def test_sulfur_is_the_s8_crown_with_its_measured_dihedral():
    """S8: D4d crown, every atom bonded to two (2.055 Å, 108°); the torsion, not an input, comes out
    at the measured 98-99°."""
    from ase.geometry import get_dihedrals
    from pymatgen.core import Molecule
    from pymatgen.symmetry.analyzer import PointGroupAnalyzer

    from anodescreen.structures import elemental_reference

    ring = elemental_reference("S")
    assert PointGroupAnalyzer(Molecule(ring.species, ring.cart_coords)).sch_symbol == "D4d"
    bonded = (ring.distance_matrix > 0.1) & (ring.distance_matrix < 2.2)
    assert (bonded.sum(axis=1) == 2).all()
    xyz = ring.cart_coords
    bonds = [xyz[[(k + i + 1) % 8 for k in range(8)]] - xyz[[(k + i) % 8 for k in range(8)]] for i in range(3)]
    torsion = get_dihedrals(*bonds)
    folded = np.minimum(torsion, 360 - torsion)
    assert folded.min() == pytest.approx(folded.max()) and 98.0 < folded[0] < 99.5


def test_unbuilt_ground_state_is_a_clear_error():
    from anodescreen.structures import elemental_reference

    with pytest.raises(AnodescreenError, match="no built-in ground state for Mn"):
        elemental_reference("Mn")


def test_hollow_coverage_on_graphene():
    from anodescreen.structures import cover

    host = graphene("3x3")
    hollow = adsorption_sites(host)[0]
    # every hexagon filled (LiC2) puts Li 2.46 Å apart, closer than 2 r_cov(Li) = 2.56 Å
    with pytest.raises(AnodescreenError, match="9 Li on hollow would be 2.46 Å apart"):
        cover(host, "Li", hollow, 1.0)
    third = cover(host, "Li", hollow, 1 / 3)  # the √3×√3 (LiC6-like) pattern
    assert third.composition["Li"] == 3
    li = [s for s in third if s.species_string == "Li"]
    assert min(a.distance(b) for i, a in enumerate(li) for b in li[i + 1:]) == pytest.approx(4.26, abs=0.01)
    assert third.properties["label"] == "G(3x3)/Li@hollow/0.3333ML"
    with pytest.raises(AnodescreenError, match="use a larger supercell"):
        cover(graphene("1x1"), "Li", adsorption_sites(graphene("1x1"))[0], 0.3)
    with pytest.raises(AnodescreenError, match="apart"):
        cover(host, "Cs", [s for s in adsorption_sites(host) if s.label == "top"][0], 1.0)


@pytest.mark.parametrize("lattice", ["bcc", "fcc", "hcp"])
def test_alkali_polymorphs_share_the_bulk_atomic_volume(lattice):
    s = bulk_metal("Na", lattice)
    assert s.properties["label"] == f"Na-{lattice}"
    assert s.volume / len(s) == pytest.approx(4.23**3 / 2, rel=1e-9)
    if lattice != "bcc":  # close packed: 12 equal nearest neighbours
        assert len(s.get_neighbors(s[0], min_distance(s) + 1e-3)) == 12
