"""How well each ML potential reproduces CP2K binding energies: the evidence for the default potential.

    .venv/bin/python benchmarks/mlip_vs_dft.py [--db benchmarks/results/funnel/bench.db]

Reads the bulk-referenced binding-energy rows that ``funnel.py`` stored (every site relaxed by
each screening potential and by CP2K) and compares, per host × alkali, each potential's value
at every site with CP2K's: mean signed and absolute error, whether the sign (bound vs the bulk
metal or not) agrees, and whether its lowest site is CP2K's (within 0.05 eV, as the funnel's
success criterion). The MLIP rows are the raw relaxations: the funnel's anomaly rules do not
apply here. Results: ``results/mlip_vs_dft/results.json``.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from anodescreen.db.queries import query_rows
from anodescreen.db.stores import StoreConfig, open_stores

OUT = Path(__file__).parent / "results" / "mlip_vs_dft"
TIE = 0.05  # eV: the funnel benchmark's "same lowest site"


def compare(rows: list[dict]) -> list[dict]:
    """One entry per host × alkali with CP2K rows: each potential's errors against CP2K."""
    values: dict[tuple[str, str], dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        values[(r["host"], r["adsorbate"])][r["method"] if r["engine"] == "mlip" else "CP2K"][r["site"]] = r["value"]
    cases = []
    for (host, element), by_method in sorted(values.items()):
        dft = by_method.pop("CP2K", None)
        if not dft:
            continue
        low = min(dft.values())
        entry = {"host": host, "element": element, "cp2k": dft, "potentials": {}}
        for method, mlip in sorted(by_method.items()):
            sites = sorted(set(mlip) & set(dft))
            errors = [mlip[s] - dft[s] for s in sites]
            best = min(sites, key=mlip.get)
            entry["potentials"][method] = {
                "values": {s: mlip[s] for s in sites},
                "mean_signed_error": round(sum(errors) / len(errors), 3),
                "mean_absolute_error": round(sum(abs(e) for e in errors) / len(errors), 3),
                "sign_agrees": sum((mlip[s] < 0) == (dft[s] < 0) for s in sites), "sites": len(sites),
                "best": best, "best_is_cp2k_best": dft[best] - low <= TIE}
        cases.append(entry)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path(__file__).parent / "results" / "funnel" / "bench.db")
    args = parser.parse_args()
    if not args.db.is_file():
        raise SystemExit(f"no store at {args.db}: run benchmarks/funnel.py first")
    stores = open_stores(StoreConfig(type="embedded", path=str(args.db)))
    rows = query_rows(stores.results, {"kind": "binding_energy", "reference": "bulk"})
    stores.close()
    cases = compare(rows)
    for c in cases:
        print(f"{c['element']} on {c['host']}: CP2K " + ", ".join(f"{s} {v:+.3f}" for s, v in sorted(c["cp2k"].items())))
        for method, p in c["potentials"].items():
            print(f"  {method}: MSE {p['mean_signed_error']:+.3f}, MAE {p['mean_absolute_error']:.3f} eV, "
                  f"sign {p['sign_agrees']}/{p['sites']}, best {p['best']} "
                  f"({'= CP2K' if p['best_is_cp2k_best'] else 'not CP2K'})")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
