"""The command line as a user meets it: one-line errors, nothing written on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = """name: cli_tiny
hosts:
  - family: graphene
    size: 2x2
adsorbates: [{element: Li}]
references: [bulk]
engine: {name: mlip, fmax: 0.1}
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ANODESCREEN_DEBUG"}
    return subprocess.run([sys.executable, "-m", "anodescreen.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _assert_one_line_error(result, *words):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (GOOD.replace("size: 2x2", "size: 2x2\n    colour: blue"), ["hosts.0.colour", "unknown key"]),
        (GOOD.replace("{element: Li}", "{element: Xq}"), ["adsorbates.0.element", "unknown element 'Xq'"]),
        (GOOD.replace("{element: Li}", "{element: Fe}"), ["adsorbates.0.element", "not an alkali"]),
        (GOOD.replace("family: graphene", "family: sac\n    metals: [Fe, Qq]"), ["hosts.0.metals", "'Qq'"]),
        (GOOD.replace("name: cli_tiny", "name: [oops"), ["not valid YAML"]),
        (GOOD + "store: db_config/absent.yaml\n", ["db_config", "no such file"]),
    ],
)
def test_bad_spec_is_one_line_and_writes_nothing(tmp_path, text, words):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    _assert_one_line_error(cli("run", str(spec), cwd=tmp_path), *words)
    assert not (tmp_path / "anodescreen.db").exists()


def test_missing_spec_file(tmp_path):
    _assert_one_line_error(cli("run", "nowhere.yaml", cwd=tmp_path), "no such file", "nowhere.yaml")


def test_a_binary_file_given_for_a_yaml_file(tmp_path):
    (tmp_path / "store.db").write_bytes(b"SQLite format 3\x00\xb9\xa2\xff" * 8)
    _assert_one_line_error(cli("run", "store.db", cwd=tmp_path), "spec", "not a text file")
    _assert_one_line_error(cli("status", "--db-config", "store.db", cwd=tmp_path), "db_config", "not a text file")


def test_outputs_never_replace_the_store(tmp_path):
    assert cli("status", cwd=tmp_path).returncode == 0  # creates the embedded store
    store = (tmp_path / "anodescreen.db").read_bytes()
    _assert_one_line_error(cli("report", "-o", "anodescreen.db", cwd=tmp_path), "own database file")
    _assert_one_line_error(cli("reproduce", "--only", "capacity-Li-1L", "--plot", "anodescreen.db", cwd=tmp_path),
                           "own database file")
    _assert_one_line_error(cli("build", "graphene", "-o", "anodescreen.db", cwd=tmp_path), "not a folder")
    assert (tmp_path / "anodescreen.db").read_bytes() == store


def test_unreachable_store_is_one_line(tmp_path):
    config = tmp_path / "mongo.yaml"
    config.write_text("type: mongodb\nhost: 127.0.0.1\nport: 1\ntimeout_ms: 300\n")
    _assert_one_line_error(cli("query", "--db-config", str(config), cwd=tmp_path), "cannot open mongodb store")


def test_query_rejects_operator_values(tmp_path):
    _assert_one_line_error(cli("query", "--host", "$where", cwd=tmp_path), "may not start with '$'")


def test_build_writes_structures_and_summary(tmp_path):
    result = cli("build", "sac", "--metal", "Co", "--adsorbate", "Na", "--site-radius", "2", "-o", "out",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "Co-N4_G_5x5.vasp" in files and "Co-N4_G_5x5_Na_metal-top.extxyz" in files
    assert "Co-N4@G(5x5)/Na@metal-top" in result.stdout
    _assert_one_line_error(cli("build", "moon", "-o", "out", cwd=tmp_path), "unknown family")
    film = cli("build", "bilayer", "--layers", "3", "--adsorbate", "K", "-o", "film", cwd=tmp_path)
    assert film.returncode == 0 and "BLG-AB(r13xr13)/K-hcp/3L" in film.stdout and "%" in film.stdout
    slab = cli("build", "slab", "--material", "LiF", "--miller", "100", "-o", "slab", cwd=tmp_path)
    assert slab.returncode == 0 and "LiF(100)" in slab.stdout



def test_build_fields_set_any_entry_field_and_bad_ones_are_one_line_errors(tmp_path):
    from pymatgen.core import Structure

    sheet = cli("build", "graphene", "-F", "vacuum=20", "-o", "g", cwd=tmp_path)
    assert sheet.returncode == 0, sheet.stderr
    assert Structure.from_file(tmp_path / "g" / "G_4x4.vasp").lattice.c == pytest.approx(20.0, abs=1e-6)
    for field, words in (("vacuum", "is not name=value"), ("colour=blue", "unknown key"),
                         ("vacuum=[", "not valid YAML")):
        _assert_one_line_error(cli("build", "graphene", "-F", field, "-o", "bad", cwd=tmp_path), words)
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow
def test_run_query_rerun_on_the_embedded_store(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD)
    first = cli("run", str(spec), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "5 computed" in first.stdout and "rows: 3 new" in first.stdout  # Li-bcc, G(2x2), 3 sites
    rows = json.loads(cli("query", "--adsorbate", "Li", "--json", cwd=tmp_path).stdout)
    assert len(rows) == 3 and [r["value"] for r in rows] == sorted(r["value"] for r in rows)
    assert {r["site"] for r in rows} == {"hollow", "bridge", "top"}
    again = cli("run", str(spec), cwd=tmp_path)
    assert "0 computed" in again.stdout and "rows: 0 new, 0 updated, 3 unchanged" in again.stdout
    assert len(json.loads(cli("query", "--json", cwd=tmp_path).stdout)) == 3
    shown = json.loads(cli("show", rows[0]["row_id"][:8], cwd=tmp_path).stdout)
    assert shown["level_of_theory"]["method"] == "CHGNet-0.3.0" and shown["is_dft"] is False
    status = cli("status", cwd=tmp_path)
    assert "successful" in status.stdout and "binding_energy 3" in status.stdout
    assert "3 rows written to rows.json" in cli("export", "rows.json", cwd=tmp_path).stdout
    _assert_one_line_error(cli("export", "rows.json", cwd=tmp_path), "exists", "--force")
    other = tmp_path / "other.yaml"
    other.write_text("type: embedded\npath: other.db\n")
    assert "3 new" in cli("import", "rows.json", "--db-config", str(other), cwd=tmp_path).stdout
    assert "3 already stored" in cli("import", "rows.json", "--db-config", str(other), cwd=tmp_path).stdout
    moved = json.loads(cli("query", "--json", "--db-config", str(other), cwd=tmp_path).stdout)
    assert moved == json.loads(cli("query", "--json", cwd=tmp_path).stdout)
    report = cli("report", "-o", "report.html", "--campaign", "cli_tiny", cwd=tmp_path)
    assert "report.html: 3 rows, 1 figures" in report.stdout, report.stderr


def test_status_reports_funnel_decisions_disagreements_and_flagged_dft_geometries(tmp_path):
    from anodescreen.db.stores import StoreConfig, open_stores
    from anodescreen.workflows.funnel import Candidate, GroupDecision

    ranking = {"CHGNet": [Candidate(site="N-top"), Candidate(site="Fe-top")]}
    decision = GroupDecision(host="Fe-N4@G(4x4)", region="top", element="Li", rankings=ranking, disagree=False,
                             best={"CHGNet": "N-top"}, selected={"N-top": ["CHGNet rank 1"], "Fe-top": ["x"]},
                             dft_ranking=[("Fe-top", 0.0), ("N-top", 0.3)], dft_best_matches={"CHGNet": False},
                             dft_anomalies={"N-top": ["Fe left its pocket (1.20 Å)"]},
                             dft_reasons=["CHGNet host rank 1 of 2 (-1.000 eV)"])
    kept = GroupDecision(host="Cu-N4@G(4x4)", region="top", element="Li", rankings=ranking, disagree=False,
                         best={"CHGNet": "N-top"}, selected={"N-top": ["CHGNet rank 1"]}, dft=False,
                         dft_reasons=["outside the host selection (top 1): keeps its MLIP rows"])
    stores = open_stores(StoreConfig(type="embedded", path=str(tmp_path / "anodescreen.db")))
    stores.campaigns.update([{"name": "sac", "funnel": [d.model_dump(mode="json") for d in (decision, kept)]}],
                            key="name")
    stores.close()
    lines = [line for line in cli("status", cwd=tmp_path).stdout.splitlines() if line.startswith("funnel sac")]
    assert lines == [
        "funnel sac Fe-N4@G(4x4) top Li: 2/2 sites to DFT because CHGNet host rank 1 of 2 (-1.000 eV) (MLIP best "
        "CHGNet: N-top; DFT best Fe-top); DFT best differs from CHGNet; DFT geometry of N-top: Fe left its "
        "pocket (1.20 Å)",
        "funnel sac Cu-N4@G(4x4) top Li: kept at MLIP (outside the host selection (top 1): keeps its MLIP rows)"]
    cli("report", "-o", "r.html", cwd=tmp_path)
    page = (tmp_path / "r.html").read_text()
    assert "<td>Cu-N4@G(4x4)</td><td>top</td><td>Li</td><td>MLIP only</td><td>kept at MLIP (outside" in page
    assert "<td>Fe-N4@G(4x4)</td><td>top</td><td>Li</td><td>DFT</td><td>2/2 sites to DFT because" in page


def test_where_filters_are_checked(tmp_path):
    _assert_one_line_error(cli("query", "--where", "adsorbate", cwd=tmp_path), "not FIELD=VALUE")
    _assert_one_line_error(cli("query", "--where", "colour=red", cwd=tmp_path), "cannot filter on 'colour'")
    _assert_one_line_error(cli("export", "x.json", "--where", "is_dft=maybe", cwd=tmp_path), "true or false")
    for count in ("\u0661", "9" * 5000):  # an Arabic-Indic digit; more digits than int() takes
        _assert_one_line_error(cli("query", "--where", f"count={count}", cwd=tmp_path), "whole number below")
    _assert_one_line_error(cli("import", "absent.json", cwd=tmp_path), "no such file")


def test_reproduce_lists_runs_exact_targets_and_rejects_bad_input(tmp_path):
    listing = cli("reproduce", "--list", "--only", "capacity-1L", cwd=tmp_path)
    assert listing.returncode == 0 and "capacity-Cs-1L" in listing.stdout and "Chepkasov" in listing.stdout
    run = cli("reproduce", "--only", "capacity-1L", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert all(o["passed"] for o in json.loads(run.stdout))
    _assert_one_line_error(cli("reproduce", "--only", "moon", cwd=tmp_path), "no target or category 'moon'")
    _assert_one_line_error(cli("reproduce", "--engine", "cp2k", "--engine-option", "cutoff=-5", "--only",
                               "capacity-Li-1L", cwd=tmp_path), "cutoff")
    _assert_one_line_error(cli("reproduce", "--engine", "gaussian", cwd=tmp_path), "engine")
