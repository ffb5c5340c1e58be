"""Refactors change no result: plans and stores pinned at commit 34654ad (before the plug-in seams).

``benchmarks/results/pins/`` holds what ``benchmarks/pin_results.py record`` wrote at that
commit: every calculation key and quantity of wide plans (each family, region and kind),
and the row ids, calc keys and values of small campaigns. ``tests/data/*_pre_seams.db.gz``
are the stores those campaigns wrote then.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from anodescreen.db.stores import StoreConfig, open_stores
from anodescreen.launchers.local import run_campaign

ROOT = Path(__file__).resolve().parents[2]
PINS = ROOT / "benchmarks" / "results" / "pins"


def _pin_results():
    spec = importlib.util.spec_from_file_location("pin_results", ROOT / "benchmarks" / "pin_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_plan_has_the_calculations_and_quantities_of_before():
    pinned = json.loads((PINS / "plans.json").read_text())
    current = _pin_results().plan_pins()
    assert set(current) == set(pinned)
    for name, plan in current.items():
        assert plan["calcs"] == pinned[name]["calcs"], name
        assert plan["quantities"] == pinned[name]["quantities"], name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tiny", "neb"])
def test_a_store_written_before_reruns_computing_nothing_with_the_same_rows(name, tmp_path, monkeypatch):
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
