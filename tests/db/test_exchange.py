"""Exports that ASE and pandas read, imports without duplicates, and the HTML report in a browser."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from dataclasses import asdict

import numpy as np
import pytest

from anodescreen.analysis.neb import neb_barrier
from anodescreen.db.exchange import export_rows, import_rows
from anodescreen.db.queries import query_frame, query_rows
from anodescreen.db.report import write_report
from anodescreen.properties import report_sections
from anodescreen.db.stores import StoreConfig, open_stores
from anodescreen.workflows.synthetic import synthetic_rows
from anodescreen.db.writes import upsert_rows
from anodescreen.errors import AnodescreenError

N = 24


@pytest.fixture
def filled(memory_stores):
    rows = list(synthetic_rows(N, seed=3))
    assert upsert_rows(memory_stores.results, rows) == (N, 0, 0)
    return memory_stores, {r.row_id: r for r in rows}


def _stored(stores) -> dict[str, dict]:
    return {d["row_id"]: {k: v for k, v in d.items() if k != "_id"} for d in stores.results.query({})}


@pytest.mark.parametrize("suffix", [".json", ".db"])
def test_round_trip_into_embedded_store_without_duplicates(filled, tmp_path, suffix):
    source, _ = filled
    path = tmp_path / f"export{suffix}"
    assert export_rows(source.results, path) == N
    target = open_stores(StoreConfig(path=str(tmp_path / "other.db")))
    assert export_rows(target.results, tmp_path / f"empty{suffix}") == 0
    assert import_rows(target.results, tmp_path / f"empty{suffix}") == (0, 0, 0)
    assert import_rows(target.results, path) == (N, 0, 0)
    assert import_rows(target.results, path) == (0, N, 0)  # idempotent
    assert _stored(target) == _stored(source)  # every field, timestamps included
    target.close()


def test_export_refuses_to_overwrite_and_filters(filled, tmp_path):
    stores, rows = filled
    path = tmp_path / "li.json"
    n_li = sum(r.adsorbate.element == "Li" for r in rows.values())
    assert export_rows(stores.results, path, {"adsorbate": "Li"}) == n_li
    with pytest.raises(AnodescreenError, match="exists"):
        export_rows(stores.results, path)
    assert export_rows(stores.results, path, overwrite=True) == N
    with pytest.raises(AnodescreenError, match="unknown format"):
        export_rows(stores.results, tmp_path / "x.parquet")


def test_csv_and_extxyz_open_in_pandas_and_ase(filled, tmp_path):
    import pandas as pd
    from ase.io import read

    stores, rows = filled
    export_rows(stores.results, tmp_path / "rows.csv")
    export_rows(stores.results, tmp_path / "rows.extxyz")
    frame = pd.read_csv(tmp_path / "rows.csv")
    assert len(frame) == N
    for _, line in frame.iterrows():
        row = rows[line["row_id"]]
        assert line["value"] == pytest.approx(row.value)
        assert line["lot_method"] == row.level_of_theory.method
        assert line["definition"] == row.definition
    frames = read(tmp_path / "rows.extxyz", index=":")
    assert len(frames) == N
    for atoms in frames:
        row = rows[atoms.info["row_id"]]
        assert atoms.info["value"] == pytest.approx(row.value)
        assert atoms.get_chemical_formula() == "C2Li"
    with pytest.raises(AnodescreenError, match="export-only"):
        import_rows(stores.results, tmp_path / "rows.csv")


def test_ase_database_key_value_pairs_are_searchable(filled, tmp_path):
    from ase.db import connect

    stores, rows = filled
    export_rows(stores.results, tmp_path / "rows.db")
    db = connect(tmp_path / "rows.db")
    na = [r for r in rows.values() if r.adsorbate.element == "Na"]
    found = list(db.select(adsorbate="Na", kind="binding_energy"))
    assert sorted(e.value for e in found) == pytest.approx(sorted(r.value for r in na))
    assert all(e.natoms == 3 for e in found)


def test_bad_import_files_change_nothing(filled, tmp_path):
    stores, _ = filled
    before = _stored(stores)
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({"rows": []}))
    export_rows(stores.results, tmp_path / "good.json")
    payload = json.loads((tmp_path / "good.json").read_text())
    payload["rows"][5]["value"] = "very negative"
    (tmp_path / "bad.json").write_text(json.dumps(payload))
    for name, message in (("junk.json", "not JSON"), ("other.json", "not an anodescreen results export"),
                          ("bad.json", "row 6: value"), ("absent.json", "no such file")):
        with pytest.raises(AnodescreenError, match=message) as info:
            import_rows(stores.results, tmp_path / name)
        assert "\n" not in str(info.value)
    assert _stored(stores) == before


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_store_file_is_neither_imported_nor_overwritten_by_an_export_or_report(tmp_path):
    """Mistaking the embedded store for an ASE export must neither add ASE's tables to it nor replace it."""
    stores = open_stores(StoreConfig(path=str(tmp_path / "anodescreen.db")))
    upsert_rows(stores.results, list(synthetic_rows(5, seed=1)))
    before, tables = _stored(stores), _tables(tmp_path / "anodescreen.db")
    other = open_stores(StoreConfig(path=str(tmp_path / "other.db")))
    with pytest.raises(AnodescreenError, match="not an ASE database"):
        import_rows(other.results, tmp_path / "anodescreen.db")
    with pytest.raises(AnodescreenError, match="own database file"):
        export_rows(stores.results, tmp_path / "anodescreen.db", overwrite=True)
    with pytest.raises(AnodescreenError, match="own database file"):
        write_report(stores.results, tmp_path / "anodescreen.db", report_sections())
    assert _tables(tmp_path / "anodescreen.db") == tables and "systems" not in tables
    assert _stored(stores) == before and len(before) == 5
    stores.close()
    other.close()


def test_query_sort_group_and_frame(filled):
    stores, rows = filled
    by_host = query_rows(stores.results, {"reference": "bulk"}, sort="host", descending=True)
    assert [r["host"] for r in by_host] == sorted((r["host"] for r in by_host), reverse=True)
    per_metal = query_rows(stores.results, group=("metal",))
    expected = {}
    for r in rows.values():
        key = (r.reference, r.lot_key, r.host.metal)
        expected[key] = min(expected.get(key, 1e9), r.value)
    assert sorted(r["value"] for r in per_metal) == sorted(expected.values())
    frame = query_frame(stores.results, {"adsorbate": "K"})
    assert list(frame["value"]) == sorted(frame["value"]) or frame["reference"].nunique() > 1
    assert len(frame) == sum(r.adsorbate.element == "K" for r in rows.values())
    with pytest.raises(AnodescreenError, match="unknown column"):
        query_rows(stores.results, sort="$where")


# --- report ----------------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _report_rows():
    """Binding energies, one NEB profile (cosine, barrier 0.4 eV), one Δρ(z) curve, one literature value."""
    rows = list(synthetic_rows(30, seed=4))
    s = np.linspace(0.0, 2.46, 7)
    barrier = neb_barrier(list(0.2 * (1 - np.cos(2 * np.pi * s / 2.46))), s)
    z = np.linspace(0, 15, 60)
    curve = -0.05 * np.exp(-((z - 9.0) ** 2)) + 0.05 * np.exp(-((z - 7.5) ** 2))
    template = rows[0]
    rows.append(template.model_copy(update={"row_id": "ab" * 8, "kind": "diffusion_barrier",
                                            "value": barrier.forward, "details": asdict(barrier)}))
    rows.append(template.model_copy(update={"row_id": "cd" * 8, "kind": "charge_depletion", "unit": "e",
                                            "value": -0.04, "details": {"z": list(z), "line_density": list(curve)}}))
    rows[1] = rows[1].model_copy(update={"details": {"literature": [{"value": rows[1].value + 0.1,
                                                                    "citation": "test", "name": "x"}]}})
    return rows, barrier


def test_report_contents(memory_stores, tmp_path):
    rows, barrier = _report_rows()
    upsert_rows(memory_stores.results, rows)
    shown = write_report(memory_stores.results, tmp_path / "r.html", report_sections())
    page = (tmp_path / "r.html").read_text()
    assert shown["rows"] == 32
    # 2 theories x 2 references of binding energies, NEB, Δρ(z), parity
    assert shown["figures"] == page.count("<svg") == 7
    for external in ("<script", "<link", "src=", "url(http", "href=\"http"):  # self-contained: nothing to fetch
        assert external not in page
    assert f"{barrier.forward:.3f}" in page and "mean absolute deviation 0.100" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (make test installs it)")
def test_report_renders_in_headless_chromium(memory_stores, tmp_path):
    from PIL import Image

    rows, _ = _report_rows()
    upsert_rows(memory_stores.results, rows)
    page = tmp_path / "report.html"
    write_report(memory_stores.results, page, report_sections(), title="render check")
    base = ["chromium", *CHROMIUM_FLAGS]
    dom = subprocess.run([*base, f"--user-data-dir={tmp_path / 'u1'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "<h1>render check</h1>" in dom
    for section in ("Energies", "Diffusion barriers (NEB)", "Charge-density difference", "Parity with literature"):
        assert f"<h2>{section}" in dom
    assert dom.count("<svg") == 7
    shot = tmp_path / "shot.png"
    subprocess.run([*base, f"--user-data-dir={tmp_path / 'u2'}", f"--screenshot={shot}", "--window-size=1100,1400",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (1400, 1100)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 100  # drawn figures, not a blank page
