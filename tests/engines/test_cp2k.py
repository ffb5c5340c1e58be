"""CP2K engine: input rules, output parsing, and real runs of the Debian ``cp2k`` on tiny cells."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from ase.units import Hartree
from conftest import CHEAP
from pymatgen.core import Lattice, Structure

from anodescreen.analysis.geometry import vacuum_axes
from anodescreen.engines.base import EngineError, kpoint_mesh
from anodescreen.engines.cp2k import Cp2kEngine, Cp2kSettings, basis_and_potential, parse_text
from anodescreen.structures import add_adsorbate, adsorption_sites, bulk_metal, graphene, isolated_atom
from anodescreen.core.plan import CalcRequest
from anodescreen.workflows.calcs import run_engine


def li2(distance: float, box: float = 12.0) -> Structure:
    """Li2 along x; a 12 Å box (in 8 Å the images pull the bond out to ~3.0 Å)."""
    return Structure(Lattice.cubic(box), ["Li", "Li"], [[1, 1, 1], [1 + distance, 1, 1]],
                     coords_are_cartesian=True)


def test_basis_and_potential_share_the_valence():
    assert basis_and_potential("Na", "DZVP-MOLOPT-SR-GTH", "PBE") == (
        "DZVP-MOLOPT-SR-GTH-q9", "GTH-PBE-q9", 9)
    assert basis_and_potential("Li", "DZVP-MOLOPT-SR-GTH", "PBE")[2] == 3
    assert basis_and_potential("C", "DZVP-MOLOPT-SR-GTH", "PBE")[2] == 4


def test_kpoints_follow_spacing_and_skip_vacuum():
    sheet = graphene("2x2", vacuum=15.0)
    assert vacuum_axes(sheet) == [False, False, True]
    # |b| = 2π / (4.92 Å · sin 60°) = 1.475 1/Å → ceil(1.475 / 0.25) = 6
    assert kpoint_mesh(sheet, 0.25) == (6, 6, 1)
    assert kpoint_mesh(isolated_atom("Li"), 0.25) == (1, 1, 1)
    bcc = bulk_metal("Li")
    n = int(np.ceil(2 * np.pi / bcc.lattice.a / 0.25))
    assert kpoint_mesh(bcc, 0.25) == (n, n, n)


def test_input_for_a_small_graphene_cell_is_metallic_and_not_gamma_only():
    text = Cp2kEngine().input_text(graphene("2x2"), "relax")
    assert "SCHEME MONKHORST-PACK 6 6 1" in text
    assert "&SMEAR ON" in text and "ALGORITHM STANDARD" in text and "&OT" not in text
    assert "TYPE DFTD3" in text and "RUN_TYPE GEO_OPT" in text
    assert "UKS" not in text  # 32 valence electrons, no moments
    lithiated = graphene("2x2")
    lithiated.append("Li", [0.0, 0.0, lithiated.frac_coords[0, 2] + 2.0 / lithiated.lattice.c])
    assert "UKS" not in Cp2kEngine().input_text(lithiated, "static")  # 35 electrons, metallic: RKS + smearing
    atom = Cp2kEngine().input_text(isolated_atom("Li"), "static")
    assert "UKS T" in atom and "MULTIPLICITY 2" in atom and "KPOINTS" not in atom


def test_dipole_correction_only_for_slabs_without_a_mirror_plane():
    sheet = graphene("2x2")
    lithiated = add_adsorbate(sheet, "Li", adsorption_sites(sheet)[0])
    auto = Cp2kEngine(dipole="auto")
    assert "SURFACE_DIPOLE_CORRECTION" not in auto.input_text(sheet, "relax")  # z → −z symmetric
    text = auto.input_text(lithiated, "relax")
    assert "SURFACE_DIPOLE_CORRECTION T" in text and "SURF_DIP_DIR Z" in text
    assert "SURFACE_DIPOLE" not in Cp2kEngine().input_text(lithiated, "relax")  # opt-in
    assert "SURFACE_DIPOLE" not in auto.input_text(bulk_metal("Li"), "relax")  # no vacuum
    # the setting is part of the level of theory: results with and without never mix
    keys = {d: Cp2kEngine(dipole=d).level_of_theory().key for d in ("auto", "on", "off")}
    assert len(set(keys.values())) == 3


@pytest.mark.slow
def test_dipole_correction_runs_for_li_on_graphene(cp2k, tmp_path):
    sheet = graphene("1x1", vacuum=20.0)  # CP2K refuses the correction in a 10 Å cell ("needs more vacuum")
    lithiated = add_adsorbate(sheet, "Li", adsorption_sites(sheet)[0])
    lithiated.translate_sites(range(len(lithiated)), [0, 0, 0.5 - lithiated.frac_coords[:, 2].mean()])
    energies = {}
    for dipole in ("on", "off"):
        engine = Cp2kEngine(**CHEAP, kspacing=0.6, dipole=dipole)
        energies[dipole] = engine.run(lithiated, "static", tmp_path / dipole).energy
    out = (tmp_path / "on" / "attempt1" / "anodescreen.out").read_text()
    assert "dipole" in out.lower()
    # the correction removes the spurious field across the vacuum: a small, finite change (4 meV here)
    assert 0 < abs(energies["on"] - energies["off"]) < 0.1


def test_max_force_criterion_is_converted_to_atomic_units():
    text = Cp2kEngine(fmax=0.05).input_text(li2(2.7), "relax")
    line = next(x for x in text.splitlines() if "MAX_FORCE" in x)
    assert float(line.split()[1]) == pytest.approx(0.05 / 51.42208619, rel=1e-6)


def test_parser_reads_a_real_cp2k_output(shared_fixtures):
    out = parse_text((shared_fixtures / "pymatgen_cp2k" / "cp2k.out").read_text())
    assert out.version == "2022.1"
    assert out.energies[-1] == pytest.approx(-7.254316323154326 * Hartree, abs=1e-8)
    assert out.scf_converged[-1] is True


def test_parser_flags_an_unconverged_scf(shared_fixtures):
    out = parse_text((shared_fixtures / "custodian_cp2k" / "cp2k.out.unconverged").read_text())
    assert out.scf_converged and out.scf_converged[-1] is False


def test_li2_bond_length_from_three_single_points(cp2k, tmp_path):
    """PBE gives r(Li2) ≈ 2.73 Å (experiment 2.67 Å): the parabola through 3 points finds it."""
    engine = Cp2kEngine(kspacing=1.0, **CHEAP)
    r = np.array([2.55, 2.75, 2.95])
    e = [engine.run(li2(x), "static", tmp_path / str(x)).energy for x in r]
    assert all(np.isfinite(e))
    a, b, _ = np.polyfit(r, e, 2)
    assert a > 0 and -b / (2 * a) == pytest.approx(2.73, abs=0.08)


def test_bcc_li_cell_relaxation_gives_the_lattice_constant(cp2k, tmp_path):
    """PBE a(bcc Li) ≈ 3.43 Å, experiment 3.45 Å (DOMAIN.md); cheap basis/cutoff within 0.1 Å."""
    engine = Cp2kEngine(kspacing=0.6, **CHEAP)
    result = engine.run(bulk_metal("Li"), "relax-cell", tmp_path)
    text = (tmp_path / "attempt1" / "anodescreen.inp").read_text()
    n = kpoint_mesh(bulk_metal("Li"), 0.6)[0]
    assert n >= 3 and f"SCHEME MONKHORST-PACK {n} {n} {n}" in text
    assert result.converged
    assert result.structure.lattice.a == pytest.approx(3.44, abs=0.1)
    assert result.structure.lattice.angles == pytest.approx((90, 90, 90), abs=0.5)


def test_graphene_relaxation_restores_the_flat_sheet_and_stores_its_theory(cp2k, tmp_path):
    sheet = graphene("2x2", vacuum=8.0)
    sheet.translate_sites([0], [0, 0, 0.15], frac_coords=False)  # buckle one atom by 0.15 Å
    engine = Cp2kEngine(kspacing=0.5, **CHEAP)
    doc = run_engine(CalcRequest(label="graphene-2x2", task="relax", structure=sheet), engine, tmp_path)
    assert doc.state == "successful", doc.reason
    z = Structure.from_dict(doc.structure).cart_coords[:, 2]
    assert np.ptp(z) < 0.03  # graphene is planar
    assert doc.energies[-1] < doc.energies[0]
    lot = doc.level_of_theory
    assert (lot.engine, lot.code, lot.method, lot.vdw) == ("cp2k", "cp2k", "PBE", "D3")
    assert lot.code_version == "2023.1" and lot.is_dft
    assert "DZVP-MOLOPT-SR-GTH" in lot.basis and "200 Ry" in lot.cutoff
    inp = (tmp_path / doc.calc_key / "attempt1" / "anodescreen.inp").read_text()
    assert "SCHEME MONKHORST-PACK 3 3 1" in inp


def test_an_unconverged_scf_is_retried_and_the_attempt_recorded(cp2k, tmp_path):
    engine = Cp2kEngine(kspacing=1.0, scf=Cp2kSettings(max_scf=2), retries=[Cp2kSettings(max_scf=100)], **CHEAP)
    result = engine.run(li2(2.7, box=8.0), "static", tmp_path)
    assert result.converged
    assert len(result.attempts) == 1 and "SCF" in result.attempts[0] and "max_scf" in result.attempts[0]


def test_a_retry_continues_from_the_last_geometry_of_an_unfinished_relaxation(cp2k, tmp_path):
    """Walltime or step limit: the next attempt starts where the last one stopped, not from scratch."""
    from ase.io import read

    engine = Cp2kEngine(kspacing=1.0, retries=[Cp2kSettings(restart_from_last=True)],
                        **{**CHEAP, "max_steps": 2})
    result = engine.run(li2(2.3, box=8.0), "relax", tmp_path)  # 2 + 2 steps reach the minimum
    assert len(result.attempts) == 1 and result.converged
    stopped = read(tmp_path / "attempt1" / "anodescreen-1.restart", format="cp2k-restart").get_distance(0, 1)
    lines = (tmp_path / "attempt2" / "anodescreen.inp").read_text().splitlines()
    li = [np.array(x.split()[1:4], float) for x in lines if x.strip().startswith("Li ")]
    assert abs(stopped - 2.3) > 0.01  # the first attempt moved the atoms
    assert np.linalg.norm(li[1] - li[0]) == pytest.approx(stopped, abs=1e-4)


def test_a_calculation_that_keeps_failing_is_stored_as_failed(cp2k, tmp_path):
    engine = Cp2kEngine(kspacing=1.0, scf=Cp2kSettings(max_scf=2), retries=[], **CHEAP)
    doc = run_engine(CalcRequest(label="Li2", task="static", structure=li2(2.7, box=8.0)), engine, tmp_path)
    assert doc.state == "failed"
    assert "SCF" in doc.reason and doc.attempts


def _processes_in(rundir: Path) -> list[str]:
    left = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == rundir.resolve():
                left.append(proc.name)
        except OSError:
            continue
    return left


def test_timeout_stops_only_this_runs_processes(cp2k, tmp_path):
    engine = Cp2kEngine(kspacing=1.0, timeout_s=2, retries=[], **CHEAP)
    with pytest.raises(EngineError, match="wall time"):
        engine.run(isolated_atom("Li", box=(12.0, 12.5, 13.0)), "static", tmp_path)
    assert _processes_in(tmp_path / "attempt1") == []


def test_sigterm_to_the_worker_stops_its_cp2k_ranks(cp2k, tmp_path):
    """kill/scancel send SIGTERM to the Python worker; its CP2K ranks must not outlive it."""
    import signal
    import subprocess
    import sys
    import time

    script = ("import sys; from pathlib import Path; from anodescreen.engines.cp2k import Cp2kEngine; "
              "from anodescreen.structures import isolated_atom; "
              "Cp2kEngine(kspacing=1.0, retries=[], cutoff=200.0, rel_cutoff=30.0)"
              ".run(isolated_atom('Li', box=(12.0, 12.5, 13.0)), 'static', Path(sys.argv[1]))")
    worker = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)])
    deadline = time.monotonic() + 60
    while not _processes_in(tmp_path / "attempt1") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_in(tmp_path / "attempt1"), "CP2K did not start"
    time.sleep(1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 128 + signal.SIGTERM
    assert _processes_in(tmp_path / "attempt1") == []


@pytest.mark.slow
def test_real_cp2k_density_gives_li_on_graphene_a_positive_bader_charge(tmp_path):
    from anodescreen.engines.charges import charge_analysis

    cell = graphene("1x1", vacuum=8.0)
    top = cell.cart_coords[:, 2].max()
    cell.append("Li", [0.0, 0.0, top + 1.8], coords_are_cartesian=True)  # hexagon centre of the 1x1 cell
    engine = Cp2kEngine(cutoff=200, rel_cutoff=30, kspacing=0.5, vdw=None)
    out = charge_analysis(engine, cell, [len(cell) - 1], tmp_path)
    assert out.charges.total_electrons == pytest.approx(2 * 4 + 3, abs=0.01)  # GTH valences C q4, Li q3
    assert sum(out.charges.charges) == pytest.approx(0.0, abs=0.01)  # neutral cell
    assert 0.2 < out.transfer < 1.0  # Li gives electrons to the sheet
    assert out.difference.depletion < 0
