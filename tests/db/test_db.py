"""Stores, store configs and the query whitelist."""

from __future__ import annotations

import pytest

from anodescreen.db.queries import build_filter, get_row, query_rows
from anodescreen.db.stores import StoreConfig, load_store_config, open_stores
from anodescreen.errors import AnodescreenError

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_shipped_configs_are_valid():
    for name, kind in (("embedded", "embedded"), ("mongodb", "mongodb"), ("mongodb_uri", "mongodb"),
                       ("mongomock", "mongomock")):
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


def test_element_filters_take_any_case_and_only_elements():
    assert build_filter({"metal": "fe", "adsorbate": "NA"}) == {"host.metal": "Fe", "adsorbate.element": "Na"}
    for bad in ("Xx", "X", "Q"):
        with pytest.raises(AnodescreenError, match="is not a chemical element"):
            build_filter({"adsorbate": bad})


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


# --- the embedded SQLite store against mongomock as the oracle -------------------------

DOCS = [
    {"k": 1, "kind": "a", "v": -0.5, "host": {"label": "X", "metal": "Fe"}, "tags": ["p", "q"], "flag": True},
    {"k": 2, "kind": "a", "v": 0.25, "host": {"label": "Y", "metal": "Co"}, "tags": ["q"], "flag": False},
    {"k": 3, "kind": "b", "v": -1.5, "host": {"label": "X", "metal": None}, "tags": [], "flag": True},
    {"k": 4, "kind": "b", "v": 2.0, "host": {"label": "Z"}, "extra": {"deep": [1, 2]}},
]
CRITERIA = [
    {}, {"kind": "a"}, {"host.label": "X"}, {"host.metal": None}, {"tags": "q"}, {"v": {"$lt": 0}},
    {"kind": "b", "v": {"$gte": -2, "$lte": 0}}, {"host.label": {"$in": ["X", "Z"]}}, {"flag": True},
    {"extra.deep": 2}, {"host.metal": {"$exists": False}}, {"$or": [{"kind": "a"}, {"v": {"$gt": 1}}]},
    {"k": {"$in": []}}, {"kind": {"$ne": "a"}},
]


@pytest.fixture
def store_pair(tmp_path):
    from maggma.stores import MemoryStore

    from anodescreen.db.sqlite_store import SQLiteStore

    sqlite, oracle = SQLiteStore(tmp_path / "s.db", "c", key="k"), MemoryStore("c", key="k")
    for store in (sqlite, oracle):
        store.connect()
        store.update([dict(d) for d in DOCS])
    sqlite.ensure_index("kind")
    sqlite.ensure_index("host.label")
    sqlite.ensure_index("v")
    yield sqlite, oracle
    sqlite.close()


@pytest.mark.parametrize("criteria", CRITERIA)
def test_sqlite_store_matches_mongo_semantics(store_pair, criteria):
    sqlite, oracle = store_pair
    keys = lambda store, **kw: [d["k"] for d in store.query(criteria, **kw)]  # noqa: E731
    assert sorted(keys(sqlite)) == sorted(keys(oracle))
    assert sqlite.count(criteria) == oracle.count(criteria)
    assert keys(sqlite, sort={"v": -1}) == keys(oracle, sort={"v": -1})
    assert keys(sqlite, sort={"kind": 1, "v": 1}, skip=1, limit=2) == keys(oracle, sort={"kind": 1, "v": 1},
                                                                              skip=1, limit=2)


def test_sqlite_store_projection_distinct_upsert_remove(store_pair):
    sqlite, oracle = store_pair
    for store in (sqlite, oracle):
        assert sorted(store.distinct("host.label")) == ["X", "Y", "Z"]
        store.update({"k": 2, "kind": "c", "v": 9.0})  # replaces, never duplicates
        store.remove_docs({"host.label": "X"})
    assert sqlite.query_one({"k": 2}, properties=["kind", "host.label"]) == {"kind": "c"}
    assert sqlite.query_one({"k": 4}, properties=["host.label"]) == {"host": {"label": "Z"}}
    assert sorted(d["k"] for d in sqlite.query()) == sorted(d["k"] for d in oracle.query()) == [2, 4]


def _upsert_worker(path: str, worker: int) -> None:
    from anodescreen.workflows.synthetic import synthetic_rows
    from anodescreen.db.writes import upsert_rows

    stores = open_stores(StoreConfig(path=path))
    rows = list(synthetic_rows(60, seed=1))  # the same 60 rows in every worker ...
    own = list(synthetic_rows(600, seed=2))[worker * 20:(worker + 1) * 20]  # ... and 20 of its own
    for i in range(0, 60, 6):
        upsert_rows(stores.results, rows[i:i + 6] + own[i // 3:i // 3 + 2])
    stores.close()


def test_concurrent_writers_on_embedded_store(tmp_path):
    import multiprocessing

    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_upsert_worker, args=(path, w)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(600)  # spawn workers import the stack: slow on a loaded machine
    assert [p.exitcode for p in workers] == [0] * 4
    stores = open_stores(StoreConfig(path=path))
    ids = [d["row_id"] for d in stores.results.query({}, properties=["row_id"])]
    stores.close()
    assert len(ids) == len(set(ids)) == 60 + 4 * 20  # no duplicates, nothing lost


def test_mongodb_stores_take_credentials_from_outside_the_config(tmp_path, monkeypatch):
    from maggma.stores import GridFSStore, MongoStore, MongoURIStore
    from maggma.stores.gridfs import GridFSURIStore

    from anodescreen.db.stores import _store

    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    config = StoreConfig(type="mongodb", username="u", password_file=str(secret))
    results, data = _store(config, "results"), _store(config, "data")
    assert type(results) is MongoStore and type(data) is GridFSStore  # job data in GridFS
    assert results.password == data.password == "s3cret"
    with pytest.raises(AnodescreenError, match="does not exist"):
        _store(config.model_copy(update={"password_file": str(tmp_path / "none")}), "results")
    monkeypatch.setenv("TEST_MONGO_URI", "mongodb://u:p@db.example:27017/?tls=true")
    uri = load_store_config(ROOT / "db_config" / "mongodb_uri.yaml").model_copy(update={"uri_env": "TEST_MONGO_URI"})
    assert type(_store(uri, "results")) is MongoURIStore and type(_store(uri, "data")) is GridFSURIStore
    monkeypatch.delenv("TEST_MONGO_URI")
    with pytest.raises(AnodescreenError, match="TEST_MONGO_URI is not set"):
        _store(uri, "results")
