"""Time the example campaign on an empty embedded store: python benchmarks/example_campaign.py."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from anodescreen.db.stores import StoreConfig, open_stores
from anodescreen.launchers.local import run_plan
from anodescreen.workflows.plan import plan_campaign
from anodescreen.workflows.spec import load_spec

SPEC = Path(__file__).resolve().parents[1] / "examples" / "sac_li_screen.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--spec", type=Path, default=SPEC)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        stores = open_stores(StoreConfig(path=str(Path(tmp) / "db")))
        plan = plan_campaign(load_spec(args.spec))
        start = time.perf_counter()
        report = run_plan(plan, stores, workers=args.workers)
        wall = time.perf_counter() - start
        docs = [d["output"] for d in stores.jobstore.query({}, properties=["output"])]
    steps = sum(d["n_steps"] for d in docs)
    engine = sum(d["elapsed_s"] or 0 for d in docs)
    print(f"workers {args.workers}: {report.computed} calculations, {len(report.failed)} failed, "
          f"{report.harvest.new} rows in {wall / 60:.2f} min; {steps} ionic steps, "
          f"{engine / steps:.3f} s/step inside the engine")


if __name__ == "__main__":
    main()
