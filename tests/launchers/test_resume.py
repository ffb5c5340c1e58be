"""Resume: a local campaign killed with SIGKILL at random moments, then run again, ends with
exactly the rows of an uninterrupted run (none lost, none duplicated)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anodescreen.db.stores import StoreConfig, open_stores

SPEC = """name: resume_check
hosts:
  - family: graphene
    size: 2x2
  - family: bilayer
    stackings: [AA]
    size: r3xr3
adsorbates: [{element: Li}]
references: [bulk, atom]
engine: {name: mlip, fmax: 0.1}
"""


def _run(cwd: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "ANODESCREEN_DEBUG"}
    return subprocess.Popen([sys.executable, "-m", "anodescreen.cli.main", "run", "spec.yaml", "--workers", "2"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _rows(cwd: Path) -> list[tuple[str, float]]:
    stores = open_stores(StoreConfig(path=str(cwd / "anodescreen.db")))
    rows = sorted((d["row_id"], d["value"]) for d in stores.results.query({}, properties=["row_id", "value"]))
    stores.close()
    return rows


@pytest.mark.slow
def test_kill_minus_nine_then_rerun_gives_the_uninterrupted_rows(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for folder in (whole, killed):
        folder.mkdir()
        (folder / "spec.yaml").write_text(SPEC)
    start = time.monotonic()
    reference = _run(whole)
    assert reference.wait(900) == 0, reference.stderr.read().decode()[-2000:]
    duration = time.monotonic() - start
    expected = _rows(whole)
    assert len(expected) == 2 * (3 + 3)  # (3 graphene sites + 3 gallery sites) x (bulk, atom)

    rng = random.Random(20261122)
    kills = 0
    for fraction in (rng.uniform(0.2, 0.5), rng.uniform(0.2, 0.5)):
        process = _run(killed)
        try:
            process.wait(fraction * duration)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the CLI and its worker processes
            process.wait()
            kills += 1
    assert kills >= 1  # the campaign really was interrupted mid-way
    final = _run(killed)
    assert final.wait(900) == 0, final.stderr.read().decode()[-2000:]
    got = _rows(killed)
    assert [r for r, _ in got] == [r for r, _ in expected]  # same rows, no duplicates, none lost
    for (_, a), (_, b) in zip(got, expected):
        assert a == pytest.approx(b, abs=1e-4)
