"""Stores, store configs and the query whitelist."""

from __future__ import annotations

import pytest

from anodescreen.db.queries import build_filter, get_row, query_rows
from anodescreen.db.stores import StoreConfig, load_store_config, open_stores
from anodescreen.errors import AnodescreenError

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_shipped_configs_are_valid():
    for name, kind in (("embedded", "embedded"), ("mongodb", "mongodb"), ("mongomock", "mongomock")):
        assert load_store_config(ROOT / "db_config" / f"{name}.yaml").type == kind


def test_embedded_store_persists_across_connections(tmp_path):
    config = StoreConfig(path=str(tmp_path / "db"))
    stores = open_stores(config)
    stores.results.update([{"row_id": "abc", "value": -1.0}], key="row_id")
    stores.close()
    again = open_stores(config)
    assert again.results.query_one({"row_id": "abc"})["value"] == -1.0
    again.close()


def test_unreachable_mongodb_is_one_line_error():
    config = StoreConfig(type="mongodb", host="127.0.0.1", port=1, timeout_ms=300)
    with pytest.raises(AnodescreenError, match="cannot open mongodb store at 127.0.0.1:1") as info:
        open_stores(config)
    assert "\n" not in str(info.value)


def test_missing_password_variable(monkeypatch):
    monkeypatch.delenv("NO_SUCH_PASSWORD_VAR", raising=False)
    with pytest.raises(AnodescreenError, match="NO_SUCH_PASSWORD_VAR is not set"):
        open_stores(StoreConfig(type="mongodb", password_env="NO_SUCH_PASSWORD_VAR"))


def test_bad_config_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("type: embedded\nbogus: 1\n")
    with pytest.raises(AnodescreenError, match="bogus: Extra inputs"):
        load_store_config(bad)
    with pytest.raises(AnodescreenError, match="no such file"):
        load_store_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    "filters",
    [{"host": {"$ne": None}}, {"adsorbate": "$where"}, {"value": 1}, {"$or": "x"}, {"site": ["a"]}],
)
def test_injection_attempts_are_rejected(filters):
    with pytest.raises(AnodescreenError):
        build_filter(filters)


def test_query_sorts_and_picks_best(memory_stores):
    rows = [
        {"row_id": "a1", "kind": "binding_energy", "reference": "bulk", "value": -0.5, "lot_key": "L",
         "host": {"label": "Fe-N4", "family": "sac"}, "adsorbate": {"element": "Li"}, "site": "N-top"},
        {"row_id": "a2", "kind": "binding_energy", "reference": "bulk", "value": -0.9, "lot_key": "L",
         "host": {"label": "Fe-N4", "family": "sac"}, "adsorbate": {"element": "Li"}, "site": "hollow"},
        {"row_id": "b1", "kind": "binding_energy", "reference": "bulk", "value": -0.7, "lot_key": "L",
         "host": {"label": "Co-N4", "family": "sac"}, "adsorbate": {"element": "Na"}, "site": "hollow"},
    ]
    memory_stores.results.update(rows, key="row_id")
    got = query_rows(memory_stores.results)
    assert [r["row_id"] for r in got] == ["a2", "b1", "a1"]
    assert [r["row_id"] for r in query_rows(memory_stores.results, best=True)] == ["a2", "b1"]
    assert [r["row_id"] for r in query_rows(memory_stores.results, {"adsorbate": "Li"})] == ["a2", "a1"]
    assert [r["row_id"] for r in query_rows(memory_stores.results, value_range=(-0.8, None))] == ["b1", "a1"]
    assert get_row(memory_stores.results, "a2")["value"] == -0.9
    with pytest.raises(AnodescreenError, match="matches 2 rows"):
        get_row(memory_stores.results, "a")
