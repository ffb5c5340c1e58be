"""GPAW, run for real on tiny cells: spin-polarised atoms and metals, spin states (the formation energy
of LiH: tests/reproduce)."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from anodescreen.engines import GpawEngine, engine_from_fields
from anodescreen.structures.references import elemental_reference, isolated_atom

#: cheap settings: the moments and signs below do not need converged energies
CHEAP = {"cutoff": 300.0, "kspacing": 0.5, "mpi_procs": 2}
BOX = (7.0, 7.5, 8.0)


def test_level_of_theory_and_inputs_say_what_runs():
    engine = GpawEngine(cutoff=450, kspacing=0.3)
    lot = engine.level_of_theory()
    assert (lot.engine, lot.code, lot.method, lot.cutoff, lot.spin_polarized) == ("gpaw", "gpaw", "PBE", "450 eV", "auto")
    assert "gpaw-data" in lot.basis and lot.is_dft and lot.code_version
    job = engine.job(elemental_reference("Fe"), "relax-cell", engine.scf)
    # bcc Fe, a = 2.87 Å: |b| = 2π/a = 2.19 1/Å → ceil(2.19 / 0.3) = 8 k-points per direction
    assert job["kpts"] == [8, 8, 8] and job["spinpol"] and job["cutoff"] == 450
    assert not engine.job(isolated_atom("Zn"), "static", engine.scf)["spinpol"]  # closed shell: no moment
    assert engine_from_fields(engine.model_dump()) == engine


@pytest.mark.slow
@pytest.mark.parametrize("symbol, moment", [("O", 2.0), ("N", 3.0)])
def test_an_isolated_atom_takes_its_hund_moment(gpaw, symbol, moment, tmp_path):
    result = GpawEngine(**CHEAP).run(isolated_atom(symbol, box=BOX), "static", tmp_path)
    assert result.total_magnetization == pytest.approx(moment, abs=0.01)


@pytest.mark.slow
def test_bcc_iron_is_ferromagnetic_near_its_measured_moment(gpaw, tmp_path):
    """bcc Fe: 2.22 μB per atom measured; PBE gives 2.2-2.3."""
    result = GpawEngine(**CHEAP).run(elemental_reference("Fe"), "static", tmp_path)
    assert result.converged and 2.0 < result.total_magnetization / 2 < 2.6
    assert all(1.9 < m < 2.6 for m in result.magnetic_moments)


@pytest.mark.slow
def test_spin_states_of_a_free_iron_atom_keep_its_high_spin_ground_state(gpaw, tmp_path):
    """Fe (3d6 4s2, ⁵D): no state lies below the 4 μB one and the non-magnetic state is Hund's exchange
    (eV) above it; the stored calculation records every state, and one that relaxed to another moment
    says so."""
    from anodescreen.core.plan import CalcRequest
    from anodescreen.core.rows import MetalMoment
    from anodescreen.workflows.calcs import run_engine

    atom = Structure(Lattice.orthorhombic(*BOX), ["Fe"], [[0.5, 0.5, 0.5]], site_properties={"magmom": [4.0]})
    engine = GpawEngine(**CHEAP)
    assert engine.settings_for(atom, "static")["spin_states"] == [4.0, 2.0, 0.0]
    doc = run_engine(CalcRequest(label="Fe-atom", task="static", structure=atom), engine, tmp_path)
    assert doc.state == "successful" and doc.total_magnetization == pytest.approx(4.0, abs=0.05)
    states = {s["initial"]: s for s in doc.spin_states}
    assert list(states) == [4.0, 2.0, 0.0] and all(s["state"] == "successful" for s in states.values())
    assert doc.energy == pytest.approx(min(s["energy"] for s in states.values()))
    assert states[4.0]["energy"] == pytest.approx(doc.energy, abs=1e-3)
    assert states[0.0]["energy"] - states[4.0]["energy"] > 1.0 and states[0.0]["total_moment"] == 0.0
    collapsed = [s for s in states.values() if abs(s["total_moment"] - s["initial_total"]) > 0.5]
    assert all("note" in s for s in collapsed) and not any("note" in s for s in states.values() if s not in collapsed)
    moment = MetalMoment.of(doc, "Fe")
    assert moment.states_tried == [4.0, 2.0, 0.0] and len(moment.notes) == len(collapsed)
    assert 3.0 < moment.metal_moment < 4.0  # the PAW sphere holds most, not all, of the moment


@pytest.mark.slow
def test_an_unconverged_scf_is_retried_then_reported_with_its_reason(gpaw, tmp_path):
    from anodescreen.engines import EngineError
    from anodescreen.engines.gpaw import GpawSettings

    engine = GpawEngine(**CHEAP, scf=GpawSettings(maxiter=2), retries=[GpawSettings(maxiter=3, mixer_beta=0.05)])
    with pytest.raises(EngineError, match="GPAW failed after 2 attempts: SCF not converged in 3 iterations") as info:
        engine.run(isolated_atom("O", box=BOX), "static", tmp_path)
    assert info.value.attempts[0].startswith("attempt 1: SCF not converged in 2 iterations")
    assert "retry with" in info.value.attempts[0] and (tmp_path / "attempt2" / "gpaw.txt").exists()
