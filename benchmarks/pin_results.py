"""Pin what campaigns compute, so a refactor can prove it changed nothing.

    python benchmarks/pin_results.py record    # at the old commit: writes benchmarks/results/pins/
    python benchmarks/pin_results.py compare   # at the new one: exits 1 on any difference

Two kinds of pins:

* plans (no computation): every calculation key, label and task, and every quantity's
  identity, of wide specs covering each host family, region and quantity kind;
* campaigns (CHGNet, a few minutes): the example campaign and small campaigns of each
  stage kind (NEB endpoints + NEB, SAC loading, formation) run on an empty embedded store;
  every stored calculation key, and every row's id, kind, calc keys and value (1e-8 eV).

``record --keep DIR`` also keeps each campaign's store file; ``compare --old-stores DIR``
then re-runs every campaign on a copy of the old store and requires that nothing is
computed and the rows are unchanged (stored databases written before a change still work).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "benchmarks" / "results" / "pins"
TOL = 1e-8

PLAN_SPECS = {
    "families": {
        "name": "pin_families",
        "hosts": [
            {"family": "sac", "metals": ["Fe", "Zr"], "motifs": ["N4", "N3", "N2O2"], "site_radius": 2.5},
            {"family": "sac", "metals": ["Co"], "motifs": ["N4"], "size": "4x4", "bilayer": True},
            {"family": "graphene", "size": "4x4", "defects": ["pristine", "sv", "pyridinic-N4"]},
            {"family": "bilayer", "stackings": ["AA", "AB"], "layers": [1, 2, 3]},
            {"family": "heterostructure", "phases": ["2H", "1T'"], "regions": ["gallery", "top", "bottom"],
             "films": [2]},
            {"family": "slab", "material": "Cu", "miller": [1, 1, 1], "layers": 3},
            {"family": "slab", "material": "LiF", "miller": [1, 0, 0], "layers": 2},
        ],
        "adsorbates": [{"element": "Li"}, {"element": "Na"}, {"element": "K"}],
        "calculations": ["binding_energy", "intercalation_energy", "formation_energy", "sac_distortion"],
        "references": ["bulk", "atom"],
        "compounds": ["LiF", "Li2O", "NaF"],
    },
    "funnel_screen": {
        "name": "pin_funnel",
        "hosts": [{"family": "graphene", "size": "3x3", "defects": ["pristine", "sv"]},
                  {"family": "sac", "metals": ["Zn"], "size": "3x3"}],
        "adsorbates": [{"element": "Li"}],
        "calculations": ["binding_energy"],
        "references": ["bulk"],
        "engine": {"name": "cp2k", "cutoff": 300, "rel_cutoff": 40},
        "funnel": {"screen": ["CHGNet", "SevenNet"]},
    },
}

CAMPAIGNS = {
    "tiny": {
        "name": "pin_tiny", "hosts": [{"family": "graphene", "size": "2x2"},
                                      {"family": "bilayer", "stackings": ["AA"], "layers": [1, 2]}],
        "adsorbates": [{"element": "Li"}, {"element": "Na"}], "references": ["bulk", "atom"],
        "engine": {"name": "mlip", "max_steps": 150},
    },
    "neb": {
        "name": "pin_neb", "hosts": [{"family": "graphene", "size": "2x2"}], "adsorbates": [{"element": "Li"}],
        "calculations": ["binding_energy", "diffusion_barrier"], "references": ["bulk"],
        "neb": {"images": 3, "fmax": 0.2, "max_steps": 60}, "engine": {"name": "mlip", "max_steps": 150},
    },
    "sac_loading": {
        "name": "pin_sac", "hosts": [{"family": "sac", "metals": ["Fe"], "size": "4x4", "site_radius": 0.5}],
        "adsorbates": [{"element": "Li"}], "calculations": ["binding_energy", "sac_distortion"],
        "references": ["bulk"], "sac_loading": [1, 2], "engine": {"name": "mlip", "max_steps": 150},
    },
    "formation": {
        "name": "pin_formation", "compounds": ["LiF"], "calculations": ["formation_energy"],
        "engine": {"name": "mlip", "max_steps": 150},
    },
    "example": str(ROOT / "examples" / "sac_li_screen.yaml"),
}


def _spec(source):
    from anodescreen.workflows.spec import CampaignSpec, load_spec

    return load_spec(source) if isinstance(source, str) else CampaignSpec.model_validate(source)


def plan_pins() -> dict:
    """Calculation keys and quantity identities of each plan spec (for a funnel: every screen's plan)."""
    from anodescreen.engines.mlip import MLIPEngine
    from anodescreen.workflows.plan import plan_campaign

    out = {}
    for name, source in PLAN_SPECS.items():
        spec = _spec(source)
        engines = {"campaign": spec.engine}
        if spec.funnel is not None:
            engines |= {m: MLIPEngine(model=m, fmax=spec.funnel.fmax, max_steps=spec.funnel.max_steps)
                        for m in spec.funnel.screen}
        for tag, engine in engines.items():
            plan = plan_campaign(spec, engine)
            out[f"{name}/{tag}"] = {
                "calcs": sorted([key, r.label, r.task, bool(r.reference)] for key, r in plan.calcs.items()),
                "quantities": sorted(json.dumps([q.kind, q.host.model_dump(), q.adsorbate.element,
                                                 q.adsorbate.count, q.site, q.region, q.complex_key, q.host_key,
                                                 sorted(q.reference_keys.items()), q.complex_label])
                                     for q in plan.quantities),
            }
    return out


def _run(spec, db: Path) -> dict:
    """Run ``spec`` on the embedded store ``db``; what it computed, and what is stored."""
    from anodescreen.db.stores import StoreConfig, open_stores
    from anodescreen.launchers.local import run_campaign

    stores = open_stores(StoreConfig(path=str(db)))
    try:
        report = run_campaign(spec, stores, workers=1)
        computed = sum(r.computed for _, r in report.stages)
        calcs = sorted({d["output"]["calc_key"] for d in stores.jobstore.query({}, properties=["output.calc_key"])})
        rows = {d["row_id"]: {"kind": d["kind"], "value": d["value"], "calc_keys": d["calc_keys"],
                              "site": d.get("site"), "reference": d["reference"]}
                for d in stores.results.query({"campaigns": spec.name})}
    finally:
        stores.close()
    return {"computed": computed, "calcs": calcs, "rows": rows}


def campaign_pins(only: list[str], keep: Path | None) -> dict:
    out = {}
    for name in only:
        with tempfile.TemporaryDirectory() as tmp:
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                result = _run(_spec(CAMPAIGNS[name]), Path(tmp) / "store.db")
            finally:
                os.chdir(cwd)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(Path(tmp) / "store.db", keep / f"{name}.db")
        result.pop("computed")
        out[name] = result
        print(f"{name}: {len(result['calcs'])} calculations, {len(result['rows'])} rows", flush=True)
    return out


def _diff_campaign(name: str, old: dict, new: dict) -> list[str]:
    problems = []
    if old["calcs"] != new["calcs"]:
        problems.append(f"{name}: calc keys differ (-{sorted(set(old['calcs']) - set(new['calcs']))} "
                        f"+{sorted(set(new['calcs']) - set(old['calcs']))})")
    if set(old["rows"]) != set(new["rows"]):
        problems.append(f"{name}: row ids differ (-{sorted(set(old['rows']) - set(new['rows']))} "
                        f"+{sorted(set(new['rows']) - set(old['rows']))})")
    for row_id in sorted(set(old["rows"]) & set(new["rows"])):
        a, b = old["rows"][row_id], new["rows"][row_id]
        if abs(a["value"] - b["value"]) > TOL or {**a, "value": 0} != {**b, "value": 0}:
            problems.append(f"{name}: row {row_id} changed: {a} -> {b}")
    return problems


def compare(only: list[str], old_stores: Path | None) -> list[str]:
    pinned_plans = json.loads((PINS / "plans.json").read_text())
    problems = []
    for name, new in plan_pins().items():
        old = pinned_plans.get(name)
        if old is None:
            problems.append(f"plan {name}: not pinned")
            continue
        for part in ("calcs", "quantities"):
            if old[part] != new[part]:
                gone, added = [x for x in old[part] if x not in new[part]], [x for x in new[part] if x not in old[part]]
                problems.append(f"plan {name}: {part} differ ({len(gone)} gone, {len(added)} new; "
                                f"first gone {gone[:1]}, first new {added[:1]})")
    pinned = json.loads((PINS / "campaigns.json").read_text())
    problems += [p for name, new in campaign_pins(only, None).items() for p in _diff_campaign(name, pinned[name], new)]
    if old_stores is not None:
        for name in only:
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "store.db"
                shutil.copy(old_stores / f"{name}.db", db)
                cwd = os.getcwd()
                os.chdir(tmp)
                try:
                    result = _run(_spec(CAMPAIGNS[name]), db)
                finally:
                    os.chdir(cwd)
            if result.pop("computed"):
                problems.append(f"{name}: re-run on the old store computed something")
            problems += _diff_campaign(f"{name} (old store)", pinned[name], result)
    return problems


def main() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["record", "compare"])
    parser.add_argument("--only", nargs="*", default=list(CAMPAIGNS), choices=list(CAMPAIGNS))
    parser.add_argument("--keep", type=Path, help="record: keep each campaign's store file in this folder")
    parser.add_argument("--old-stores", type=Path, help="compare: also re-run on the stores kept by record --keep")
    args = parser.parse_args()
    if args.mode == "record":
        PINS.mkdir(parents=True, exist_ok=True)
        (PINS / "plans.json").write_text(json.dumps(plan_pins(), indent=0))
        campaigns = PINS / "campaigns.json"
        old = json.loads(campaigns.read_text()) if campaigns.exists() else {}
        campaigns.write_text(json.dumps(old | campaign_pins(args.only, args.keep), indent=1, sort_keys=True))
        return
    problems = compare(args.only, args.old_stores)
    print("\n".join(problems) if problems else "no change: plans, calc keys, row ids and values identical")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
