"""Bader charges, Δρ(z), NEB barriers, diffusion hops and SAC distortion against exact answers."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from pymatgen.core import Lattice, Structure

from anodescreen.analysis.bader import (
    DensityGrid,
    bader_charges,
    neargrid_basins,
    ongrid_basins,
    parse_acf,
    read_density,
    write_chgcar,
)
from anodescreen.analysis.density import density_difference, line_density
from anodescreen.analysis.neb import neb_barrier
from anodescreen.analysis.sac import sac_distortion, sac_geometry
from anodescreen.errors import AnodescreenError
from anodescreen.structures import graphene, sac_site
from anodescreen.structures.paths import diffusion_hops
from anodescreen.engines.neb import NebSettings, run_neb

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
BADER = FIXTURES / "bader_reference"
needs_fixtures = pytest.mark.skipif(not BADER.is_dir(), reason="../shared/fixtures not beside the project")


def gaussians(shape, lattice: Lattice, centres, charges, widths) -> np.ndarray:
    """Sum of normalised periodic Gaussians (e/Å³) on a grid; each integrates to its charge."""
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), -1)
    rho = np.zeros(shape)
    for c, q, w in zip(centres, charges, widths):
        d = frac - lattice.get_fractional_coords(c)
        d -= np.round(d)
        for image in itertools.product((-1, 0, 1), repeat=3):  # rounding is not the nearest image in oblique cells
            r2 = (((d + image) @ lattice.matrix) ** 2).sum(-1)
            rho += q * np.exp(-r2 / (2 * w**2)) / (2 * np.pi * w**2) ** 1.5
    return rho


def test_bader_of_separated_gaussians_gives_their_charges():
    lattice = Lattice.orthorhombic(12, 10, 10)
    centres, charges, widths = [[3.1, 5.05, 5.05], [9.1, 5.05, 5.05]], [3.0, 1.0], [0.5, 0.35]
    atoms = Structure(lattice, ["Na", "Li"], centres, coords_are_cartesian=True)
    grid = DensityGrid(gaussians((96, 80, 80), lattice, centres, charges, widths), atoms)
    result = bader_charges(grid, {"Na": 3.0, "Li": 3.0}, use_binary=False)
    assert result.electrons == pytest.approx(charges, abs=1e-3)
    assert sum(result.electrons) + result.vacuum_electrons == pytest.approx(grid.electrons, abs=1e-9)
    assert result.charges == pytest.approx([0.0, 2.0], abs=1e-3)  # q = Z_val − N
    assert result.transfer([1]) == pytest.approx(2.0, abs=1e-3)


def test_equal_gaussians_split_exactly_in_half_and_vacuum_is_counted():
    lattice = Lattice.cubic(10)
    centres = [[2.5 + 0.0625, 5.0625, 5.0625], [7.5 + 0.0625, 5.0625, 5.0625]]  # mid-plane between grid planes
    atoms = Structure(lattice, ["K", "K"], centres, coords_are_cartesian=True)
    grid = DensityGrid(gaussians((80, 80, 80), lattice, centres, [1.0, 1.0], [0.9, 0.9]), atoms)
    result = bader_charges(grid, {"K": 1.0}, vacuum=1e-4, use_binary=False)
    assert result.electrons[0] == pytest.approx(result.electrons[1], abs=1e-9)
    assert sum(result.electrons) + result.vacuum_electrons == pytest.approx(2.0, abs=1e-3)
    assert 0 < result.vacuum_electrons < 0.05


def test_neargrid_basins_of_graphene_are_the_exact_voronoi_prisms():
    """Equal Gaussians on graphene: the C–C bond bisectors are mirror planes, so each atom's Bader basin is
    its in-plane Voronoi prism. Near-grid puts every grid point off those planes in the right basin; on-grid,
    with its lattice bias, does not (104 points on this grid)."""
    lattice = Lattice.hexagonal(2.46, 10)
    atoms = Structure(lattice, ["C", "C"], [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5]])
    shape = (48, 48, 195)
    rho = gaussians(shape, lattice, atoms.cart_coords, [4, 4], [0.35, 0.35])
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), -1).reshape(-1, 3)
    in_plane = []
    for site in atoms:
        d = frac - site.frac_coords
        d -= np.round(d)
        d[:, 2] = 0
        in_plane.append(np.min([np.linalg.norm((d + (i, j, 0)) @ lattice.matrix, axis=1)
                                for i, j in itertools.product((-1, 0, 1), repeat=2)], axis=0))
    exact = np.argmin(in_plane, axis=0)
    off_plane = np.abs(in_plane[0] - in_plane[1]) > 1e-9

    def misplaced(basins):
        maxima = np.unique(basins)
        owner = dict(zip(maxima, np.argmin(lattice.get_all_distances(
            np.array(np.unravel_index(maxima, shape)).T / np.array(shape), atoms.frac_coords), axis=1)))
        return int(np.sum((np.vectorize(owner.get)(basins.ravel()) != exact) & off_plane))

    assert misplaced(neargrid_basins(rho, lattice.matrix)) == 0
    assert misplaced(ongrid_basins(rho, lattice.matrix)) > 50


def test_missing_valence_is_a_clear_error():
    atoms = Structure(Lattice.cubic(4), ["Li"], [[0, 0, 0]])
    with pytest.raises(AnodescreenError, match="no valence given for Li"):
        bader_charges(DensityGrid(np.ones((4, 4, 4)), atoms), {}, use_binary=False)


def test_chgcar_round_trip_keeps_the_density(tmp_path):
    lattice = Lattice.hexagonal(2.46, 12)
    atoms = Structure(lattice, ["C", "C"], [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5]])
    rho = gaussians((12, 12, 40), lattice, atoms.cart_coords, [4, 4], [0.6, 0.6])
    write_chgcar(DensityGrid(rho, atoms), tmp_path / "CHGCAR")
    back = read_density(tmp_path / "CHGCAR")
    assert back.density == pytest.approx(rho, rel=1e-9, abs=1e-14)
    assert back.electrons == pytest.approx(DensityGrid(rho, atoms).electrons, rel=1e-9)


@needs_fixtures
@pytest.mark.parametrize(("name", "density", "reference"), [
    ("nacl_pymatgen", "nacl_pymatgen/CHGCAR.gz", None),  # Na has no density maximum: 0 e, as in bader
    ("sno2_gvasp", "sno2_gvasp/AECCAR2.gz", ("sno2_gvasp/AECCAR0.gz", "sno2_gvasp/AECCAR2.gz")),
    ("cp2k_cube_pymatgen", "../pymatgen_cp2k/elec.cube.gz", None),
    ("ca2n_baderkit", "ca2n_baderkit/CHGCAR.cube.gz", None),  # electride: non-nuclear maxima
])
def test_ongrid_partition_matches_henkelman_bader(name, density, reference):
    grid = read_density(BADER / density)
    ref = None if reference is None else read_density(BADER / reference[0]) + read_density(BADER / reference[1])
    valence = {el.symbol: 0.0 for el in grid.structure.composition}
    result = bader_charges(grid, valence, ref, use_binary=False, method="ongrid")
    expected = parse_acf((BADER / name / "ongrid" / "ACF.dat").read_text())
    assert result.electrons == pytest.approx(expected["charges"], abs=1e-3)
    assert result.total_electrons == pytest.approx(expected["electrons"], abs=1e-3)


@needs_fixtures
@pytest.mark.parametrize(("name", "density", "reference", "tolerance"), [
    ("nacl_pymatgen", "nacl_pymatgen/CHGCAR.gz", None, 1e-3),
    ("sno2_gvasp", "sno2_gvasp/AECCAR2.gz", ("sno2_gvasp/AECCAR0.gz", "sno2_gvasp/AECCAR2.gz"), 1e-3),
    ("cp2k_cube_pymatgen", "../pymatgen_cp2k/elec.cube.gz", None, 1e-3),  # on-grid is 0.033 e off here
    ("li_bcc_pymatgen", "li_bcc_pymatgen/CHGCAR.nospin.gz", None, 1e-3),
    ("fe3o4_ref_pymatgen", "fe3o4_ref_pymatgen/CHGCAR.Fe3O4_ref.gz", None, 1e-3),
    ("h2o_pyiron", "../pyiron_bader_h2o/AECCAR2.gz",
     ("../pyiron_bader_h2o/AECCAR0.gz", "../pyiron_bader_h2o/AECCAR2.gz"), 1e-3),  # 20³ grid
    ("ca2n_baderkit", "ca2n_baderkit/CHGCAR.cube.gz", None, 1e-2),  # non-nuclear maxima; on-grid: 0.03 e off
])
def test_neargrid_partition_matches_henkelman_bader(name, density, reference, tolerance):
    grid = read_density(BADER / density)
    ref = None if reference is None else read_density(BADER / reference[0]) + read_density(BADER / reference[1])
    valence = {el.symbol: 0.0 for el in grid.structure.composition}
    result = bader_charges(grid, valence, ref, use_binary=False)
    expected = parse_acf((BADER / name / "neargrid" / "ACF.dat").read_text())
    assert result.method == "neargrid (anodescreen)"
    assert result.electrons == pytest.approx(expected["charges"], abs=tolerance)
    assert sum(result.electrons) == pytest.approx(grid.electrons, abs=1e-9)


@needs_fixtures
def test_acf_parser_reads_totals():
    acf = parse_acf((FIXTURES / "pyiron_bader_h2o" / "ACF.dat").read_text())
    assert len(acf["charges"]) == 3 and acf["electrons"] > 0


def test_density_difference_of_gaussian_layers_is_exact():
    """A metal layer losing 0.3 e to a sheet 3 Å below: λ(z) and Δq_z are Gaussians' integrals."""
    lattice = Lattice.hexagonal(4.92, 20)
    atoms = Structure(lattice, ["C", "Li"], [[0, 0, 8.0], [0, 0, 11.0]], coords_are_cartesian=True)
    shape = (24, 24, 200)
    z = np.arange(shape[2]) * 20 / shape[2]
    host = DensityGrid(gaussians(shape, lattice, [[0, 0, 8.0]], [4.0], [0.7]), atoms)
    metal = DensityGrid(gaussians(shape, lattice, [[0, 0, 11.0]], [1.0], [0.7]), atoms)
    moved = gaussians(shape, lattice, [[0, 0, 8.0], [0, 0, 11.0]], [0.3, -0.3], [0.5, 0.5])
    combined = DensityGrid(host.density + metal.density + moved, atoms)
    diff = density_difference(combined, host, metal, adsorbate_z=11.0)
    profile = -0.3 * np.exp(-((z - 11.0) ** 2) / (2 * 0.5**2)) / (math.sqrt(2 * math.pi) * 0.5) \
        + 0.3 * np.exp(-((z - 8.0) ** 2) / (2 * 0.5**2)) / (math.sqrt(2 * math.pi) * 0.5)
    assert diff.line_density == pytest.approx(profile, abs=2e-3)
    assert diff.depletion == pytest.approx(-0.3, abs=2e-3)
    assert 9.5 < diff.depletion_range[0] < 11 < diff.depletion_range[1] < 11 + 3.8 * 0.5  # 0.1 % tail: 3.7σ
    assert line_density(host)[1].sum() * (z[1] - z[0]) == pytest.approx(host.electrons, rel=1e-9)


class CosinePath(Calculator):
    """E = −A cos(2πx/a): minima at x = 0, a; saddle A at x = a/2, exact barrier 2A."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, amplitude: float, period: float):
        super().__init__()
        self.amplitude, self.period = amplitude, period

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        x = self.atoms.positions[:, 0]
        k = 2 * np.pi / self.period
        forces = np.zeros_like(self.atoms.positions)
        forces[:, 0] = -self.amplitude * k * np.sin(k * x)
        self.results = {"energy": float(-self.amplitude * np.cos(k * x).sum()), "forces": forces}


def test_neb_on_symmetric_cosine_gives_exact_equal_barriers():
    lattice = Lattice.orthorhombic(6.0, 5.0, 5.0)
    start = Structure(lattice, ["Li"], [[0.0, 0.0, 0.0]])
    end = Structure(lattice, ["Li"], [[3.0, 0.0, 0.0]], coords_are_cartesian=True)
    out = run_neb(start, end, CosinePath(0.15, 3.0), NebSettings(images=5, interpolation="linear", fmax=1e-3))
    assert out.converged
    assert out.barrier.forward == pytest.approx(0.30, abs=1e-4)
    assert out.barrier.reverse == pytest.approx(out.barrier.forward, abs=1e-9)
    assert out.barrier.saddle_image == 3
    assert out.barrier.spline_forward == pytest.approx(out.barrier.forward, abs=1e-6)
    assert out.force_calls > 0


def test_spline_barrier_equals_highest_image_when_the_maximum_is_on_an_image():
    s = np.linspace(0, 2.46, 7)
    e = 0.3 * np.sin(np.pi * s / 2.46) ** 2
    slopes = 0.3 * np.pi / 2.46 * np.sin(2 * np.pi * s / 2.46)
    barrier = neb_barrier(list(e), s, list(slopes))
    assert barrier.forward == pytest.approx(0.3)
    assert barrier.spline_forward == pytest.approx(barrier.forward, abs=1e-12)
    skewed = neb_barrier([0.0, 0.2, 0.5, 0.4, 0.1], [0, 1, 2, 3, 4])
    assert skewed.forward == 0.5 and skewed.reverse == pytest.approx(0.4)
    assert skewed.spline_forward >= skewed.forward


def test_graphene_hops_have_the_lattice_lengths():
    hops = {h.label: h.length for h in diffusion_hops(graphene("3x3"))}
    a, d = 2.46, 1.42
    assert hops["hollow→hollow via bridge"] == pytest.approx(a, abs=0.01)
    assert hops["top→top via bridge"] == pytest.approx(d, abs=0.01)
    assert hops["bridge→top"] == pytest.approx(d / 2, abs=0.01)
    assert hops["hollow→bridge"] == pytest.approx(a / 2, abs=0.01)
    assert len(hops) == 6  # six-fold symmetry collapses every other copy


def test_sac_hops_stay_inside_the_site_radius():
    host = sac_site("Fe", "N4", "3x3")
    hops = diffusion_hops(host, centre=(0.5, 0.5), max_distance=2.0)
    labels = [h.label for h in hops]
    assert len(labels) == len(set(labels))
    plane = host.lattice.matrix[:2, :2]
    for hop in hops:
        for end in (hop.start, hop.end):
            offset = np.array(end.frac_xy) - 0.5
            offset -= np.round(offset)
            assert np.linalg.norm(offset @ plane) <= 2.0 + 1e-6
        assert 0 < hop.length <= 3.5
    assert any(h.start.label == "metal-top" for h in hops)


def test_sac_distortion_of_a_lifted_metal_is_analytic():
    host = sac_site("Fe", "N4", "3x3")
    metal = next(i for i, s in enumerate(host) if s.specie.symbol == "Fe")
    flat = sac_geometry(host, metal)
    assert flat["coordination"] == 4
    assert sum(flat["angles"]) == pytest.approx(360.0, abs=1e-6)  # planar pocket
    assert flat["angles"][0] == pytest.approx(flat["angles"][2], abs=1e-6)  # opposite angles of a D2h pocket
    lifted = host.copy()
    h = 0.6
    lifted.translate_sites([metal], [0, 0, h], frac_coords=False)
    change = sac_distortion(host, lifted, "Fe")
    d = np.array(flat["bonds"])
    assert change["max_bond_change"] == pytest.approx(np.max(np.hypot(d, h) - d), abs=1e-6)
    # in-plane vectors p_i, p_j at angle θ: cos θ' = (|p_i||p_j| cos θ + h²) / (|v_i||v_j|)
    cosines = [(d[i] * d[(i + 1) % 4] * math.cos(math.radians(flat["angles"][i])) + h**2)
               / (math.hypot(d[i], h) * math.hypot(d[(i + 1) % 4], h)) for i in range(4)]
    assert change["loaded"]["angles"] == pytest.approx([math.degrees(math.acos(c)) for c in cosines], abs=1e-6)
    assert change["height_change"] == pytest.approx(h, abs=1e-6)


@pytest.mark.slow
def test_mlip_neb_of_li_between_graphene_hollows_is_symmetric(tmp_path):
    from anodescreen.engines.mlip import MLIPEngine
    from anodescreen.structures import add_adsorbate
    from anodescreen.engines.neb import relaxed_endpoints

    host = graphene("2x2")
    hop = next(h for h in diffusion_hops(host) if h.label == "hollow→hollow via bridge")
    engine = MLIPEngine(fmax=0.02)
    (start, end), energies = relaxed_endpoints(engine, add_adsorbate(host, "Li", hop.start),
                                               add_adsorbate(host, "Li", hop.end), tmp_path)
    out = run_neb(start, end, engine.calculator(), NebSettings(images=3, fmax=0.05, max_steps=150), energies)
    assert out.converged
    assert out.barrier.forward == pytest.approx(out.barrier.reverse, abs=0.02)  # equivalent endpoints
    assert 0.05 < out.barrier.forward < 0.8  # PBE literature for Li hollow→bridge→hollow: ≈0.3 eV
    assert out.barrier.saddle_image == 2  # the middle image sits on the bridge


def test_same_minima_match_translated_copies_but_not_other_sites():
    from anodescreen.analysis.minima import same_minima
    from anodescreen.structures import add_adsorbate, adsorption_sites, graphene

    sheet = graphene("3x3")
    sites = adsorption_sites(sheet)
    complexes = [add_adsorbate(sheet, "Li", s) for s in sites]
    hollow = complexes[[s.label for s in sites].index("hollow")]
    shifted = hollow.copy()
    shifted.translate_sites(list(range(len(shifted))), [1 / 3, 0, 0])  # one graphene lattice vector in 3x3
    groups = same_minima([*complexes, shifted], [0.0] * 4)
    hollow_index = [s.label for s in sites].index("hollow")
    assert sorted(map(len, groups)) == [1, 1, 2] and [hollow_index, 3] in groups
    assert same_minima([hollow, shifted], [0.0, 0.01]) == [[0], [1]]  # 10 meV apart: two minima


def test_layers_of_an_intercalated_bilayer_and_the_net_force_on_each():
    from anodescreen.analysis.geometry import interlayer_distances, layer_normal_forces, layers
    from anodescreen.structures import intercalated_bilayer

    s = intercalated_bilayer("Li", "AA", "r3xr3")  # C6LiC6: c = 3.706 Å, Li midway (LiC6)
    groups = layers(s)
    assert [len(g) for g in groups] == [6, 1, 6]
    assert interlayer_distances(s) == pytest.approx([3.706 / 2] * 2, abs=1e-3)
    forces = np.zeros((len(s), 3))
    forces[groups[0], 2] = 0.02  # 0.02 eV/Å on each atom of the lower sheet: 0.12 eV/Å on the sheet
    assert layer_normal_forces(s, forces) == pytest.approx([0.12, 0.0, 0.0])
