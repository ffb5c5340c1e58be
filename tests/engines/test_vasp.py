"""VASP engine: written inputs checked tag by tag; real VASP outputs replayed in place of the binary."""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

import pytest
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints

from anodescreen.analysis.bader import bader_charges, parse_acf, read_density
from anodescreen.engines.base import is_polar_slab
from anodescreen.engines.vasp import VaspEngine, density_outputs, potcar_valence
from anodescreen.structures import (
    add_adsorbate,
    adsorption_sites,
    bilayer_graphene,
    bulk_metal,
    graphene,
    sac_site,
)
from anodescreen.core.plan import CalcRequest
from anodescreen.workflows.calcs import run_engine

FAKE_VASP = Path(__file__).with_name("fake_vasp.py")
MOS2 = "mos2_pt_adatom/DFT_inputs/mos2"


def written(engine: VaspEngine, structure: Structure, task: str, tmp_path: Path) -> tuple[Incar, Kpoints, list]:
    ordered = Structure.from_sites(sorted(structure, key=lambda s: s.specie.X))
    engine.input_set_generator(ordered, task).get_input_set(ordered, potcar_spec=True).write_input(tmp_path)
    spec = (tmp_path / "POTCAR.spec").read_text().split()
    return Incar.from_file(tmp_path / "INCAR"), Kpoints.from_file(tmp_path / "KPOINTS"), spec


def li_on_fe_n4() -> Structure:
    host = sac_site("Fe", "N4", "4x4")
    return add_adsorbate(host, "Li", adsorption_sites(host, "top", (0.5, 0.5), 2.0)[0])


def test_sac_relaxation_is_spin_polarised_dipole_corrected_and_d3(tmp_path):
    incar, kpoints, potcars = written(VaspEngine(), li_on_fe_n4(), "relax", tmp_path)
    assert incar["ISPIN"] == 2 and incar["IVDW"] == 11
    assert incar["LDIPOL"] is True and incar["IDIPOL"] == 3  # Li on one face only
    assert incar["ENCUT"] == 520 and incar["IBRION"] == 2 and incar["ISIF"] == 2
    assert incar["EDIFFG"] == pytest.approx(-0.02)
    assert kpoints.style.name == "Gamma" and kpoints.kpts[0][2] == 1 and kpoints.kpts[0][0] >= 3
    assert potcars == ["Li_sv", "Fe_pv", "C", "N"]  # one block per element, MP POTCARs
    magmom = incar["MAGMOM"]
    assert max(magmom) > 0  # the metal carries its initial moment


def test_symmetric_bilayer_gets_no_dipole_and_no_spin(tmp_path):
    structure = bilayer_graphene("r3xr3", "AA")
    assert not is_polar_slab(structure)
    incar, _, _ = written(VaspEngine(), structure, "static", tmp_path)
    assert incar["ISPIN"] == 1 and "LDIPOL" not in incar and incar["NSW"] == 0


def test_one_sided_adatom_makes_a_slab_polar():
    sheet = graphene("3x3")
    assert not is_polar_slab(sheet)
    assert is_polar_slab(add_adsorbate(sheet, "Li", adsorption_sites(sheet)[0]))


def test_static_for_bader_writes_the_core_densities(tmp_path):
    incar, _, _ = written(VaspEngine(write_density=True), graphene("2x2"), "static", tmp_path)
    assert incar["LAECHG"] is True and incar["LCHARG"] is True


def test_bulk_reference_relaxes_the_cell_without_vacuum_kpoint_collapse(tmp_path):
    incar, kpoints, potcars = written(VaspEngine(), bulk_metal("Li"), "relax-cell", tmp_path)
    assert incar["ISIF"] == 3 and potcars == ["Li_sv"]
    assert len(set(kpoints.kpts[0])) == 1 and kpoints.kpts[0][0] >= 7


@pytest.mark.parametrize(("vdw", "tags"), [
    ("optB88-vdW", {"GGA": "Bo", "LUSE_VDW": True, "PARAM1": 0.1833333333, "PARAM2": 0.22}),
    ("D3(BJ)", {"IVDW": 12}),
])
def test_vdw_choices(tmp_path, vdw, tags):
    incar, _, _ = written(VaspEngine(vdw=vdw), graphene("2x2"), "static", tmp_path)
    for key, value in tags.items():
        assert incar[key] == (pytest.approx(value) if isinstance(value, float) else value)


def test_mp_compatible_uses_mp_u_and_no_vdw(tmp_path):
    from pymatgen.core import Lattice

    coo = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.26), ["Co", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    engine = VaspEngine(mp_compatible=True)
    incar, _, _ = written(engine, coo, "relax-cell", tmp_path)
    assert "IVDW" not in incar and incar["LDAU"] is True and 3.32 in incar["LDAUU"]
    assert engine.level_of_theory().vdw is None and engine.level_of_theory().hubbard_u["Co"] == pytest.approx(3.32)


def test_replayed_vasp_run_is_parsed_into_a_stored_calculation(shared_fixtures, tmp_path):
    """Real optB86b-vdW run of 5×5 MoS2 (VASP 5.4.4): E0 = −400.80534586 eV (MANIFEST.md)."""
    reference = shared_fixtures / MOS2 / "pristine-mos2"
    structure = Structure.from_file(reference / "POSCAR")
    engine = VaspEngine(vdw="optB86b-vdW", encut=500, spin="on", kspacing=0.16, ediff=1e-7, fmax=0.01,
                        potcar_spec=True, custodian=False,
                        command=f"{sys.executable} {FAKE_VASP} {reference}")
    doc = run_engine(CalcRequest(label="MoS2-5x5", task="relax", structure=structure), engine, tmp_path)
    assert doc.state == "successful", doc.reason
    assert doc.energy == pytest.approx(-400.80534586, abs=1e-7)
    assert doc.level_of_theory.engine == "vasp" and doc.level_of_theory.vdw == "optB86b-vdW"
    assert doc.level_of_theory.code_version.startswith("5.4.4")  # from the replayed vasprun.xml
    assert doc.lot_key == engine.level_of_theory().key  # the version is recorded, not keyed
    rundir = tmp_path / doc.calc_key
    with gzip.open(rundir / "INCAR.gz", "rt") as f:
        incar = Incar.from_str(f.read())
    upstream = Incar.from_file(reference / "INCAR")
    for tag in ("GGA", "LUSE_VDW", "PARAM1", "PARAM2", "ENCUT", "ISPIN", "ISMEAR", "SIGMA", "EDIFF", "EDIFFG",
                "IBRION", "ISIF"):
        assert incar[tag] == upstream[tag], tag
    with gzip.open(rundir / "KPOINTS.gz", "rt") as f:
        assert Kpoints.from_str(f.read()).kpts == Kpoints.from_file(reference / "KPOINTS").kpts
    final = Structure.from_dict(doc.structure)
    assert final.composition == structure.composition
    assert final.lattice.abc == pytest.approx(structure.lattice.abc)


def test_potcar_valence_is_read_from_the_run(shared_fixtures):
    """ZVAL from vasprun.xml's atominfo equals the POTCARs' own ZVAL lines (POTCAR.spec.txt: Mo_sv 14, S 6)."""
    run = shared_fixtures / MOS2 / "pristine-mos2"
    spec = (run / "POTCAR.spec.txt").read_text()
    zval = [float(z) for z in re.findall(r"ZVAL\s*=\s*([\d.]+)", spec)]
    assert potcar_valence(run / "vasprun.xml.gz") == {"Mo": zval[0], "S": zval[1]} == {"Mo": 14.0, "S": 6.0}


def test_bader_outputs_of_a_real_laechg_run_give_charges_with_the_runs_valence(shared_fixtures, tmp_path):
    """Real LAECHG run of H2O (pyiron's test files), left gzipped as atomate2 leaves a run folder: the
    AECCARs are found, Z_val comes from the run (H 1, O 6), and the partition reproduces
    ``bader AECCAR2 -ref CHGCAR_sum`` (bader 1.03). (No OUTCAR upstream, so atomate2 cannot parse the run
    itself: the MoS2 replay above covers that path.)"""
    reference = shared_fixtures / "pyiron_bader_h2o"
    for name in ("vasprun.xml", "AECCAR0.gz", "AECCAR2.gz"):
        data = (reference / name).read_bytes()
        target = tmp_path / (name if name.endswith(".gz") else f"{name}.gz")
        target.write_bytes(data if name.endswith(".gz") else gzip.compress(data))
    files, valence = density_outputs(tmp_path)
    assert valence == {"H": 1.0, "O": 6.0}
    assert set(files) == {"core_density", "valence_density"}  # the upstream snapshot has no CHGCAR
    valence_density = read_density(files["valence_density"])
    basins = read_density(files["core_density"]) + valence_density
    charges = bader_charges(valence_density, valence, basins, use_binary=False)
    expected = parse_acf((shared_fixtures / "bader_reference" / "h2o_pyiron" / "neargrid" / "ACF.dat").read_text())
    assert charges.symbols == ["H", "H", "O"]
    assert charges.electrons == pytest.approx(expected["charges"], abs=1e-3)
    assert charges.charges == pytest.approx([1.0 - expected["charges"][0], 1.0 - expected["charges"][1],
                                            6.0 - expected["charges"][2]], abs=1e-3)


def test_vasp_neb_replayed_from_a_real_vtst_run(shared_fixtures, tmp_path):
    """Li hop between AB graphene layers, VASP 5.4.4 + VTST, 7 images (npj Unconv. Comput. 2, 28):
    highest images 02 and 06 at E0 = −336.39078459 eV, endpoints at −336.45920117 and −336.45920102 eV
    (MANIFEST.md), so 0.06842 eV forward and reverse."""
    from anodescreen.properties.diffusion_barrier import RELAXED_ENDPOINTS

    reference = shared_fixtures / "npjuc_bilayer_graphene_li" / "fig-2d-NEB" / "NEB"
    initial, final = (Structure.from_file(reference / name / "POSCAR") for name in ("00", "08"))
    engine = VaspEngine(encut=400, kspacing=0.067, sigma=0.1, ediff=1e-6, potcar_spec=True, custodian=False,
                        command=f"{sys.executable} {FAKE_VASP} {reference}")
    settings = {"images": 7, "interpolation": "linear", "climb": False, "fmax": 0.02, "max_steps": 200,
                RELAXED_ENDPOINTS: [-336.45920117, -336.45920102]}
    request = CalcRequest(label="Li@AB-BLG hop", task="neb", structure=initial, final=final, settings=settings)
    doc = run_engine(request, engine, tmp_path)
    assert doc.state == "successful", doc.reason
    d = doc.details
    assert d["forward"] == pytest.approx(-336.39078459 + 336.45920117, abs=1e-7)
    assert d["reverse"] == pytest.approx(-336.39078459 + 336.45920102, abs=1e-7)
    assert d["saddle_image"] in (2, 6) and len(d["image_energies"]) == 9
    assert d["spline_forward"] >= d["forward"]
    assert "VTST" in d["method"] and doc.n_steps > 7
    assert doc.level_of_theory.code_version.startswith("5.4.4")  # from the images' OUTCARs
    assert doc.lot_key == engine.level_of_theory().key
    run = tmp_path / doc.calc_key / "neb"
    # the tags of the upstream run's INCAR (NCORE, ISYM, LREAL, ISTART, PREC aside)
    incar, upstream = Incar.from_file(run / "INCAR"), Incar.from_file(reference / "INCAR")
    for tag in ("IMAGES", "SPRING", "LCLIMB", "IBRION", "POTIM", "IOPT", "IVDW", "ENCUT", "ISMEAR", "SIGMA",
                "EDIFF", "EDIFFG", "NSW", "ISIF", "ISPIN"):
        assert incar[tag] == upstream[tag], tag
    assert Kpoints.from_file(run / "03" / "KPOINTS").kpts == Kpoints.from_file(reference / "KPOINTS").kpts
    # the band as written: fixed endpoints; image 04 of a linear band at the minimum-image midpoint
    written = [Structure.from_file(run / f"{i:02d}" / "POSCAR") for i in (0, 4, 8)]
    li = [next(s for s in x if s.specie.symbol == "Li") for x in [initial, final, *written]]
    step = (li[1].frac_coords - li[0].frac_coords + 0.5) % 1 - 0.5
    assert li[2].distance(li[0]) < 1e-6 and li[4].distance(li[1]) < 1e-6
    assert li[3].distance_from_point(initial.lattice.get_cartesian_coords(li[0].frac_coords + step / 2)) < 1e-6
    # images come back in the request's site order, at the replayed CONTCARs
    saddle = Structure.from_dict(doc.structure)
    assert [s.species_string for s in saddle] == [s.species_string for s in initial]


def test_a_vasp_error_custodian_cannot_fix_is_stored_failed_with_its_corrections(tmp_path):
    """VASP stops with the tetrahedron error on every try: custodian's VaspErrorHandler switches to
    Gaussian smearing (ISMEAR 0, SIGMA 0.05), reruns, gives up after max_errors; the calculation is
    stored as failed, with the correction it tried and the INCAR it left."""
    message = "Tetrahedron method fails for NKPT<4. NKPT =    1"
    engine = VaspEngine(ismear=-1, sigma=0.1, potcar_spec=True, max_errors=1,
                        command=f"{sys.executable} {FAKE_VASP} --fail '{message}'")
    doc = run_engine(CalcRequest(label="G(1x1)", task="static", structure=graphene("1x1")), engine, tmp_path)
    assert doc.state == "failed" and "VASP run failed" in doc.reason and "Correction" in doc.reason
    assert doc.attempts and doc.attempts[0].startswith("tet:") and '"ISMEAR": 0' in doc.attempts[0]
    incar = Incar.from_file(tmp_path / doc.calc_key / "INCAR")
    assert incar["ISMEAR"] == 0 and incar["SIGMA"] == 0.05
