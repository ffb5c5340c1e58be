"""Bader partition: wall time and peak memory on ≥100³ grids, with the charges checked.

    .venv/bin/python benchmarks/bader.py [--grid 100 128 160] [--out benchmarks/results/bader]

The density is analytic: a normalised Gaussian (σ = 0.35 Å) of Z_val electrons on every
atom of Li on 3×3 graphene (15 Å vacuum, the real cell of a screening run), so the total
is known exactly. Each grid size runs in a fresh process; memory is the partition's own
peak allocation (tracemalloc, numpy buffers included) and the process's peak resident size
(which includes building the analytic density). Reports the near-grid (default) and on-grid
Python partitions, and Henkelman's ``bader`` too when it is on the PATH.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

VALENCE = {"C": 4.0, "Li": 1.0}
SIGMA = 0.35
IMAGES = [(i, j, 0) for i in (-1, 0, 1) for j in (-1, 0, 1)]


def density_grid(n: int):
    from anodescreen.analysis.bader import DensityGrid
    from anodescreen.structures.graphene import graphene
    from anodescreen.structures.sites import add_adsorbate, adsorption_sites

    host = graphene("3x3", 15.0)
    hollow = next(s for s in adsorption_sites(host, "top") if s.label == "hollow")
    structure = add_adsorbate(host, "Li", hollow)
    shape = (n, n, max(n, int(round(n * structure.lattice.c / structure.lattice.a))))
    frac = np.stack(np.meshgrid(*[np.arange(m) / m for m in shape], indexing="ij"), axis=-1).reshape(-1, 3)
    rho = np.zeros(len(frac))
    norm = (2 * np.pi * SIGMA**2) ** -1.5
    for site in structure:
        d = frac - site.frac_coords
        d -= np.round(d)
        for image in IMAGES:  # a rounded fractional offset is not the nearest image in a 120° cell
            r2 = np.sum(((d + image) @ structure.lattice.matrix) ** 2, axis=1)
            rho += VALENCE[site.specie.symbol] * norm * np.exp(-r2 / (2 * SIGMA**2))
    return DensityGrid(rho.reshape(shape), structure)


def measure(n: int, binary: bool, method: str) -> dict:
    from anodescreen.analysis.bader import bader_charges

    grid = density_grid(n)
    tracemalloc.start()
    start = time.perf_counter()
    result = bader_charges(grid, VALENCE, use_binary=binary, method=method)
    wall = time.perf_counter() - start
    partition = tracemalloc.get_traced_memory()[1]  # numpy buffers allocated by the partition
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF if not binary else resource.RUSAGE_CHILDREN).ru_maxrss
    expected = sum(VALENCE[s] for s in result.symbols)
    li = result.symbols.index("Li")
    return {"grid": list(grid.density.shape), "points": int(grid.density.size), "method": result.method,
            "wall_s": round(wall, 2), "partition_peak_mb": round(partition / 2**20, 1),
            "process_peak_rss_mb": round(peak / 1024, 1), "density_mb": round(grid.density.nbytes / 2**20, 1),
            "total_error_e": round(abs(sum(result.electrons) - expected), 5),
            "li_charge_e": round(result.charges[li], 4),
            "max_c_charge_e": round(max(abs(q) for s, q in zip(result.symbols, result.charges) if s == "C"), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, nargs="+", default=[100, 128, 160])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bader"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    parser.add_argument("--binary", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--method", default="neargrid", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.binary, args.method)))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.grid:
        runs = [(False, "neargrid"), (False, "ongrid")] + ([(True, "neargrid")] if shutil.which("bader") else [])
        for binary, method in runs:
            cmd = [sys.executable, __file__, "--one", str(n), "--method", method] + (["--binary"] if binary else [])
            run = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results.append(json.loads(run.stdout.strip().splitlines()[-1]))
            print(json.dumps(results[-1]), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
