"""Which Materials Project energies each potential reproduces: formation energies vs raw GGA and MP2020.

    .venv/bin/python benchmarks/mlip_formation.py [--model CHGNet SevenNet]

Runs the reproduction harness's formation targets of ten alkali compounds (fluorides, chlorides,
hydride, oxides, nitride) with each potential and reports, per potential, the mean absolute
difference from MP raw GGA, from MP GGA with the MP2020 anion corrections and from experiment
(``results/mlip_formation/results.json``). The form a potential matches is the one it was trained
on (``anodescreen.engines.mlip.TRAINED_ON``), and the harness compares it with that form only.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from anodescreen.db.stores import StoreConfig, open_stores
from anodescreen.engines import MLIPEngine
from anodescreen.engines.mlip import TRAINED_ON
from anodescreen.reproduce.harness import reproduce

COMPOUNDS = ["LiF", "NaF", "KF", "CsF", "LiCl", "NaCl", "LiH", "Li2O", "Na2O", "Li3N"]
CATEGORIES = ["formation-mp", "formation-mp2020", "formation-exp"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=list(TRAINED_ON))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/mlip_formation"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    only = [f"{c}-{f}" for f in COMPOUNDS for c in CATEGORIES]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_stores(StoreConfig(type="embedded", path=str(Path(tmp) / "store.db")))
        for model in args.model:
            outcomes = reproduce(stores, MLIPEngine(model=model), only, root_dir=Path(tmp) / "runs")
            table = {f: {} for f in COMPOUNDS}
            for o in outcomes:
                formula = o.name.rsplit("-", 1)[1]
                table[formula]["computed"] = None if o.computed is None else round(o.computed, 4)
                table[formula][o.category] = o.literature
            mae = {c: round(sum(abs(r["computed"] - r[c]) for r in table.values()) / len(table), 4)
                   for c in CATEGORIES}
            results[model] = {"trained_on": TRAINED_ON[model], "mean_abs_difference": mae, "compounds": table}
            print(model, TRAINED_ON[model], mae, flush=True)
        stores.close()
    (args.out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
