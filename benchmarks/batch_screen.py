"""Screening throughput: structures relaxed per minute on this machine, batched vs one ASE optimiser each.

    .venv/bin/python benchmarks/batch_screen.py [--model CHGNet] [--sizes 1 4 8 24]

Every symmetry-unique Li site on 4×4 single-vacancy graphene (24) is
relaxed (BFGS, fmax 0.05) by today's path (atomate2's ForceFieldRelaxMaker, one ASE optimiser per
structure) and by :func:`anodescreen.engines.batch.relax_together` at each batch size. Reports wall
time, structures per minute, force evaluations and the largest energy difference from today's minima
(``results/batch_screen/<model>.json``). Run alone: the timings mean nothing with the cores shared.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from anodescreen.engines import MLIPEngine
from anodescreen.structures import add_adsorbate, adsorption_sites, defective_graphene


def complexes() -> list:
    host = defective_graphene("4x4", "sv")
    return [add_adsorbate(host, "Li", s) for s in adsorption_sites(host)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="CHGNet", choices=["CHGNet", "SevenNet"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 24])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/batch_screen"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    structures = complexes()
    engine = MLIPEngine(model=args.model)
    engine.run(structures[0], "static")  # load the potential outside the timings
    start = time.perf_counter()
    today = [engine.run(s, "relax") for s in structures]
    wall = time.perf_counter() - start
    rows = [{"path": "atomate2 ForceFieldRelaxMaker (one ASE BFGS per structure)", "batch_size": None,
             "wall_s": round(wall, 1), "per_minute": round(60 * len(structures) / wall, 2),
             "force_evaluations": sum(r.n_steps for r in today), "max_energy_diff_eV": 0.0}]
    for size in args.sizes:
        batched = MLIPEngine(model=args.model, batch_size=size)
        batched.evaluate(structures[:1])
        start = time.perf_counter()
        results = [r for i in range(0, len(structures), size) for r in batched.run_batch(structures[i:i + size])]
        wall = time.perf_counter() - start
        rows.append({"path": "relax_together (BFGS, batched evaluation)", "batch_size": size,
                     "wall_s": round(wall, 1), "per_minute": round(60 * len(structures) / wall, 2),
                     "force_evaluations": sum(r.n_steps for r in results),
                     "max_energy_diff_eV": round(max(abs(a.energy - b.energy) for a, b in zip(results, today,
                                                                                                 strict=True)), 6)})
        print(json.dumps(rows[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"model": args.model, "structures": len(structures), "atoms": len(structures[0]),
              "threads": torch.get_num_threads(), "rows": rows}
    (args.out / f"{args.model}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
