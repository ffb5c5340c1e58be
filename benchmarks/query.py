"""Filtered top-10 query: the embedded store vs an ASE SQLite database of the same rows.

    .venv/bin/python benchmarks/query.py 100000 1000000

For each size: synthetic schema-valid rows (anodescreen.workflows.synthetic) are upserted by
row id, as campaigns write them, into a fresh embedded store (anodescreen.db.sqlite_store)
and written to an ASE database with the row scalars as key-value pairs; then the same question, "the 10 most favourable
CP2K bulk-referenced Na binding energies on Fe hosts", is asked of both (median of 3).
Both answers must be the same rows. Results: benchmarks/results/query/<n>.json.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from anodescreen.db.exchange import key_values
from anodescreen.db.queries import query_rows
from anodescreen.db.stores import StoreConfig, open_stores
from anodescreen.workflows.synthetic import synthetic_rows

OUT = Path(__file__).parent / "results" / "query"
FILTERS = {"adsorbate": "Na", "metal": "Fe", "reference": "bulk", "engine": "cp2k"}
BATCH = 5000


def _timed(func, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(n: int, work: Path) -> dict:
    from ase import Atoms
    from ase.db import connect

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    stores = open_stores(StoreConfig(path=str(work / "embedded.sqlite")))
    db = connect(work / "ase.db", type="db")
    load = {"embedded": 0.0, "ase": 0.0}
    batch = []

    def flush():
        start = time.perf_counter()
        stores.results.update([r.model_dump(mode="json") for r in batch], key="row_id")
        load["embedded"] += time.perf_counter() - start
        start = time.perf_counter()
        with db:
            for r in batch:
                db.write(Atoms("C2Li"), key_value_pairs=key_values(r.model_dump(mode="json")))
        load["ase"] += time.perf_counter() - start
        batch.clear()

    for row in synthetic_rows(n):
        batch.append(row)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()

    t_embedded, embedded = _timed(lambda: query_rows(stores.results, FILTERS, limit=10))
    t_ase, ase_rows = _timed(lambda: list(db.select(adsorbate="Na", metal="Fe", reference="bulk",
                                                   engine="cp2k", sort="value", limit=10)))
    same = [r["row_id"] for r in embedded] == [r.row_id for r in ase_rows]
    stores.close()
    sizes = {p.name: p.stat().st_size for p in work.iterdir()}
    result = {"rows": n, "query": FILTERS | {"sort": "value", "limit": 10},
              "load_s": {k: round(v, 2) for k, v in load.items()},
              "query_s": {"embedded": round(t_embedded, 4), "ase_sqlite": round(t_ase, 4)},
              "ratio_embedded_over_ase": round(t_embedded / t_ase, 1), "same_rows": same,
              "disk_bytes": sizes}
    shutil.rmtree(work, ignore_errors=True)
    return result


def main(sizes: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        result = run(n, OUT / f"work-{n}")
        (OUT / f"{n}.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main([int(float(a)) for a in sys.argv[1:]] or [100000, 1000000])
