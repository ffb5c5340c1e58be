"""Real DFT on this machine (issue #20): formation energies per DFT engine, Li on magnetic M-N4, summary.

    .venv/bin/python benchmarks/dft.py formation [--engine gpaw] [--option KEY=VALUE ...] [--only LiH ...]
    .venv/bin/python benchmarks/dft.py sac [--only Fe ...] [--option KEY=VALUE ...]
    .venv/bin/python benchmarks/dft.py summary

``formation`` runs the reproduction harness's formation targets of every buildable compound, one
compound at a time (a stopped run resumes: every finished calculation is in the store), and writes
``results/dft/formation_<engine>.json``: per compound the computed ΔH_f (eV/atom), experiment, MP raw
GGA, the deviations and the wall time of its calculations. The layered van der Waals solids are
left out: PBE without dispersion barely binds the layers of graphite (LiC6, NaC6: C-graphite) and
MoS2, so their cell relaxations wander along c (MoS2: 134 SCF steps in 8 min, not converged) for a
minimum that is not physical (issue #23).

``sac`` screens Li on M-N4@G(3x3) (M = Mn, Fe, Co, Ni, Cu, Zn; the cell in which CP2K's
spin-polarised SCF never converged) with CHGNet and SevenNet, then GPAW single points on each
potential's best MLIP minimum and on the host's (funnel ``single_point_only``: the rows are single
points on MLIP geometries and say so). Every magnetic metal runs each state of its spin ladder.
``results/dft/sac.json``: per metal the DFT binding energy (atom reference, eV), whether every
calculation converged, the metal's moment in host and complex and the states tried, the wall time of
each calculation and the CHGNet and SevenNet values of the same site. The cutoff/k-point check
reruns the Fe single points at 500 eV and 4×4×1 k-points (``--check``).

``summary.json`` is rewritten from every results file present.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml
from _packed import packed_stores  # benchmarks/_packed.py, beside this script

from anodescreen.db.calcs import stored_calcs
from anodescreen.engines import engine_from_fields
from anodescreen.launchers.local import run_campaign
from anodescreen.reproduce.harness import reproduce
from anodescreen.reproduce.targets import load_targets
from anodescreen.structures.compounds import COMPOUNDS
from anodescreen.workflows.spec import CampaignSpec

OUT = Path("benchmarks/results/dft")
#: PBE without dispersion has no c-axis minimum for these (see the module docstring)
UNBOUND = {"LiC6", "NaC6", "MoS2"}


def formation(engine, only: list[str] | None, stores) -> dict:
    """Formation targets of each compound (``only``, or all but :data:`UNBOUND`), one at a time."""
    path = OUT / f"formation_{engine.name}.json"
    done = json.loads(path.read_text())["compounds"] if path.exists() else {}
    known = {t.name for t in load_targets()}
    for formula in only or [f for f in COMPOUNDS if f not in UNBOUND]:
        names = [n for n in (f"formation-exp-{formula}", f"formation-mp-{formula}") if n in known]
        if not names:
            continue  # an element without a built-in ground state
        start = time.perf_counter()
        outcomes = reproduce(stores, engine, names, root_dir=OUT / "runs")
        entry = {"computed": outcomes[0].computed, "wall_s": round(time.perf_counter() - start, 1)}
        for o in outcomes:
            key = "exp" if o.category == "formation-exp" else "mp"
            entry[key], entry[f"deviation_{key}"] = o.literature, o.deviation
            entry["note"] = o.note or entry.get("note", "")
        done[formula] = entry
        path.write_text(json.dumps({"level_of_theory": engine.level_of_theory().model_dump(mode="json"),
                                    "compounds": done}, indent=1))
        print(formula, json.dumps(entry), flush=True)
    return done


SAC_METALS = ["Fe", "Co", "Ni", "Mn", "Cu", "Zn"]  # the magnetic ones first
#: screening: each potential's best site only, its DFT single point the result
FUNNEL = {"screen": ["CHGNet", "SevenNet"], "verify": "single_point_only", "single_point_top_k": 1,
          "single_point_margin": 0.0}
#: GPAW for the M-N4 cells (2 cores: ≈5 s per SCF iteration): 400 eV, 3×3×1 Γ-centred (graphene's K
#: folds onto Γ in 3n×3n cells, so Γ-centred meshes of 3n points hold it)
SAC_GPAW = {"name": "gpaw", "cutoff": 400.0, "kspacing": 0.35}
#: the convergence check of the binding energy (Fe): the engine's defaults, 500 eV and 4×4×1
TIGHT = {"cutoff": 500.0, "kspacing": 0.25}


def sac_spec(metal: str, engine: dict) -> CampaignSpec:
    host = {"family": "sac", "metals": [metal], "motifs": ["N4"], "size": "3x3", "site_radius": 2.0,
            "vacuum": 12.0}
    tag = "-".join(f"{k}{v}" for k, v in sorted(engine.items()) if k != "name")
    return CampaignSpec.model_validate({
        "name": f"dft-sac-{metal}" + (f"-{tag}" if tag else ""), "hosts": [host], "adsorbates": [{"element": "Li"}],
        "calculations": ["binding_energy"], "references": ["atom"], "engine": engine, "funnel": FUNNEL})


def sac(metal: str, engine: dict, stores) -> dict:
    """One metal's funnel campaign; its DFT rows beside the MLIP rows of the same sites."""
    spec = sac_spec(metal, engine)
    start = time.perf_counter()
    run_campaign(spec, stores, root_dir=OUT / "runs")
    label = f"{metal}-N4@G(3x3)"
    rows = list(stores.results.query({"host.label": label, "kind": "binding_energy", "reference": "atom"}))
    lot = spec.engine.level_of_theory().key
    dft = [r for r in rows if r["lot_key"] == lot]
    out = {"host": label, "alkali": "Li", "engine": spec.engine.name, "settings": engine,
           "campaign_wall_s": round(time.perf_counter() - start, 1), "sites": {}}
    for r in sorted(dft, key=lambda r: r["value"]):
        docs = stored_calcs(stores, sorted(r["calc_keys"].values()))
        mlip = {m["level_of_theory"]["method"].split()[0]: round(m["value"], 4) for m in rows
                if not m["is_dft"] and m["site"] == r["site"]}
        out["sites"][r["site"]] = {
            "binding_energy": round(r["value"], 4), "single_point": r["single_point"], "mlip": mlip,
            "magnetism": r["details"].get("magnetism", {}),
            "wall_s": {role: round(docs[k][0].elapsed_s or 0, 1) for role, k in r["calc_keys"].items() if k in docs},
            "spin_states": {role: docs[k][0].spin_states for role, k in r["calc_keys"].items()
                            if k in docs and docs[k][0].spin_states}}
    failed = [d.label for d, _ in stored_calcs(stores, sorted(spec_keys(spec, stores))).values()
              if d.state != "successful"]
    best = next(iter(out["sites"].values()), None)
    out |= {"converged": bool(out["sites"]) and not failed, "failed": failed,
            "binding_energy": None if best is None else best["binding_energy"],
            "metal_moment": None if best is None else best["magnetism"].get("complex", {}).get("metal_moment")}
    return out


def spec_keys(spec: CampaignSpec, stores) -> set[str]:
    """Calc keys of a campaign's DFT stages."""
    from anodescreen.workflows.stages import Stages

    stages = Stages(spec, stores)
    return {k for i, name in enumerate(stages.names) if name.startswith("DFT") for k in stages.plan(i).calcs}


def _mae(values: list[float]) -> float | None:
    return round(sum(abs(v) for v in values) / len(values), 4) if values else None


def summary() -> dict:
    """``summary.json`` from the results files present."""
    out: dict = {"sac": [], "formation": {}}
    for path in sorted(OUT.glob("formation_*.json")):
        rows = [c for c in json.loads(path.read_text())["compounds"].values() if c["computed"] is not None]
        mp = [c["deviation_mp"] for c in rows if c.get("deviation_mp") is not None]
        exp = [c["deviation_exp"] for c in rows if c.get("deviation_exp") is not None]
        out["formation"][path.stem.removeprefix("formation_")] = {
            "mae_vs_mp": _mae(mp), "mae_vs_exp": _mae(exp), "n": len(rows), "n_vs_mp": len(mp)}
    sac = OUT / "sac.json"
    if sac.exists():
        out["sac"] = [{k: r[k] for k in ("host", "alkali", "engine", "converged", "metal_moment", "binding_energy")}
                      for r in json.loads(sac.read_text())]
    (OUT / "summary.json").write_text(json.dumps(out, indent=1))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["formation", "sac", "summary"])
    parser.add_argument("--engine", default="gpaw")
    parser.add_argument("--option", action="append", default=[], help="KEY=VALUE engine setting")
    parser.add_argument("--only", nargs="+")
    parser.add_argument("--check", action="store_true", help="sac: the Fe cutoff/k-point check")
    args = parser.parse_args()
    base = SAC_GPAW if args.part == "sac" else {"name": args.engine}
    fields = {**base, **{k: yaml.safe_load(v) for k, _, v in (o.partition("=") for o in args.option)}}
    engine = engine_from_fields(fields)
    if args.part == "formation":
        with packed_stores(OUT, f"{engine.name}.db") as stores:
            formation(engine, args.only, stores)
    if args.part == "sac":
        path = OUT / "sac.json"
        done = {r["host"]: r for r in json.loads(path.read_text())} if path.exists() else {}
        with packed_stores(OUT, "sac.db") as stores:
            if args.check:
                tight = sac("Fe", {**fields, **TIGHT}, stores)
                base = done["Fe-N4@G(3x3)"]
                check = {"settings": tight["settings"], "base": base["settings"], "sites": {
                    s: round(v["binding_energy"] - base["sites"][s]["binding_energy"], 4)
                    for s, v in tight["sites"].items() if s in base["sites"]}}
                (OUT / "sac_check.json").write_text(json.dumps({"tight": tight, "difference": check}, indent=1))
                print(json.dumps(check, indent=1))
            for metal in [] if args.check else args.only or SAC_METALS:
                done[f"{metal}-N4@G(3x3)"] = sac(metal, fields, stores)
                path.write_text(json.dumps(list(done.values()), indent=1))
                print(json.dumps(done[f"{metal}-N4@G(3x3)"], indent=1), flush=True)
    print(json.dumps(summary(), indent=1))


if __name__ == "__main__":
    main()
