"""Refactors change no result: plans and stores pinned at commit 34654ad (before the plug-in seams).

``benchmarks/results/pins/`` holds what ``benchmarks/pin_results.py record`` wrote at that
commit: every calculation key and quantity of wide plans (each family, region and kind),
and the row ids, calc keys and values of small campaigns. ``tests/data/*_pre_seams.db.gz``
are the stores those campaigns wrote then.

Two changes are deliberate: since issue #21 an MLIP relaxation of a layered slab also converges its
layers (``layer_fmax`` in its calc key), so those are computed again. The pins are compared with
that criterion left out of the keys, and every key it changes is such a relaxation. And plans.json was
recorded again (2026-12-02) for four graphene/MoS2 cells: of the film supercells that one coincidence
cell admits (the film rotated by its own symmetries), the smallest matrix is now taken, where it
used to be whichever pymatgen's generator yielded first (structures._matching._canonical_film).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from pymatgen.core import Lattice, Structure

from anodescreen.analysis.geometry import is_layered
from anodescreen.core.plan import KEY_DECIMALS, structure_fingerprint
from anodescreen.db.stores import StoreConfig, open_stores
from anodescreen.engines.base import EngineModel
from anodescreen.engines.mlip import MLIPEngine
from anodescreen.launchers.local import run_campaign

ROOT = Path(__file__).resolve().parents[2]
PINS = ROOT / "benchmarks" / "results" / "pins"


def _pin_results():
    spec = importlib.util.spec_from_file_location("pin_results", ROOT / "benchmarks" / "pin_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def without_layer_criterion(monkeypatch):
    """MLIP calc keys as before issue #21 (no layer_fmax)."""
    monkeypatch.setattr(MLIPEngine, "settings_for", EngineModel.settings_for)


def test_every_plan_has_the_calculations_and_quantities_of_before(without_layer_criterion):
    pinned = json.loads((PINS / "plans.json").read_text())
    current = _pin_results().plan_pins()
    assert set(current) == set(pinned)
    for name, plan in current.items():
        assert plan["calcs"] == pinned[name]["calcs"], name
        assert plan["quantities"] == pinned[name]["quantities"], name


def test_the_layer_criterion_changes_the_keys_of_layered_relaxations_only():
    from anodescreen.workflows.plan import plan_campaign

    pins = _pin_results()
    pinned = {tuple(c) for c in json.loads((PINS / "plans.json").read_text())["families/campaign"]["calcs"]}
    spec = pins._spec(pins.PLAN_SPECS["families"])
    changed = [r for key, r in plan_campaign(spec, spec.engine).calcs.items()
               if (key, r.label, r.task, bool(r.reference)) not in pinned]
    assert changed  # bilayers, heterostructures and slabs are in the spec
    assert all(r.task == "relax" and not r.reference and is_layered(r.structure) for r in changed)


def test_a_key_is_the_same_on_every_cpu():
    """Cartesian coordinates in a key are the IEEE term-by-term sums of frac x lattice, so a coordinate
    that is zero (here x of the site at (1/3, 2/3) of a hexagonal cell) hashes as +0.0 or -0.0 by that
    definition, never by what a BLAS with fused multiply-adds makes of it."""
    lattice = Lattice([[2.46, 0, 0], [-1.23, 2.130422493309719, 0], [0, 0, 15]])
    structure = Structure(lattice, ["C", "C"], [[1 / 3, 2 / 3, 0.5], [0.5, 0.5, 0.5]])
    m = lattice.matrix.tolist()
    expected = [[round(f[0] * m[0][k] + f[1] * m[1][k] + f[2] * m[2][k], KEY_DECIMALS) for k in range(3)]
                for f in structure.frac_coords.tolist()]
    assert structure_fingerprint(structure)[2] == expected
    assert [str(c) for c in structure_fingerprint(structure)[2][0]][0] == str(expected[0][0])  # the sign too


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tiny", "neb"])
def test_a_store_written_before_reruns_computing_nothing_with_the_same_rows(name, tmp_path, monkeypatch,
                                                                            without_layer_criterion):
    """The old store's calculations are all reused (same calc keys) and the rows derived again from
    them are the old rows: same ids, calc keys and values (1e-8)."""
    pins = _pin_results()
    db = tmp_path / "old.db"
    db.write_bytes(gzip.decompress((ROOT / "tests" / "data" / f"pin_{name}_pre_seams.db.gz").read_bytes()))
    monkeypatch.chdir(tmp_path)
    stores = open_stores(StoreConfig(path=str(db)))
    try:
        report = run_campaign(pins._spec(pins.CAMPAIGNS[name]), stores)
        rows = {d["row_id"]: d for d in stores.results.query({})}
    finally:
        stores.close()
    assert sum(r.computed for _, r in report.stages) == 0
    assert sum(r.harvest.new for _, r in report.stages) == 0
    pinned = json.loads((PINS / "campaigns.json").read_text())[name]["rows"]
    assert set(rows) == set(pinned)
    for row_id, old in pinned.items():
        assert rows[row_id]["value"] == pytest.approx(old["value"], abs=1e-8)
        assert rows[row_id]["calc_keys"] == old["calc_keys"]
