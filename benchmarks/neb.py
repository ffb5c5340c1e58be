"""NEB cost: force calls per barrier vs images and interpolation, CHGNet, two Li hops.

    .venv/bin/python benchmarks/neb.py [--images 3 5 7] [--interpolation idpp linear] [--out DIR]

Cases: Li on 3×3 graphene, hollow→hollow via bridge; Li between AB bilayer layers (3×3,
the gap opened by Li), hollow-top→hollow-top (the hop of the npj Unconv. Comput. 2, 28
VASP PBE-D3 NEB, 0.068 eV, in shared/fixtures). Endpoints are relaxed once (fmax 0.02);
then climbing-image NEB (FIRE, fmax 0.05, improved tangent) for each number of images and
interpolation asked for. Force calls count every energy+force evaluation of an image; the
endpoints' energies come from their relaxations.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from anodescreen.engines.mlip import MLIPEngine
from anodescreen.structures.graphene import graphene
from anodescreen.structures.intercalation import intercalated_bilayer
from anodescreen.structures.paths import diffusion_hops
from anodescreen.structures.sites import add_adsorbate
from anodescreen.engines.neb import NebSettings, relaxed_endpoints, run_neb


def cases() -> dict:
    surface = graphene("3x3", 15.0)
    gap = intercalated_bilayer("Li", "AB", "3x3", site="hollow-top")
    gap.remove_species(["Li"])
    out = {}
    for name, host, region, label in (("Li@G(3x3)", surface, "top", "hollow→hollow via bridge"),
                                      ("Li@AB-BLG(3x3)", gap, "gallery", "hollow-top→hollow-top")):
        hop = next(h for h in diffusion_hops(host, region) if h.label == label)
        out[name] = (label, add_adsorbate(host, "Li", hop.start), add_adsorbate(host, "Li", hop.end))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/neb"))
    parser.add_argument("--images", type=int, nargs="+", default=[3, 5, 7])
    parser.add_argument("--interpolation", nargs="+", default=["idpp", "linear"], choices=["idpp", "linear"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    engine = MLIPEngine(model="CHGNet", fmax=0.02)
    results = []
    for name, (label, start, end) in cases().items():
        (initial, final), energies = relaxed_endpoints(engine, start, end, args.out / "runs" / name)
        for images in args.images:
            for interpolation in args.interpolation:
                settings = NebSettings(images=images, interpolation=interpolation, fmax=0.05, max_steps=500)
                t0 = time.perf_counter()
                outcome = run_neb(initial, final, engine.calculator(), settings, energies)
                results.append({"case": name, "hop": label, "images": images, "interpolation": interpolation,
                                "force_calls": outcome.force_calls, "converged": outcome.converged,
                                "forward_eV": round(outcome.barrier.forward, 4),
                                "reverse_eV": round(outcome.barrier.reverse, 4), "wall_s": round(time.perf_counter()
                                                                                                 - t0, 1)})
                print(json.dumps(results[-1]), flush=True)
                (args.out / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
