"""The funnel's verification tiers vs brute-force DFT: CP2K force evaluations, wall time, success.

    .venv/bin/python benchmarks/funnel.py [--group NAME ...] [--check NAME] [--out benchmarks/results/funnel]

Each group is one host × alkali with at least 5 symmetry-unique sites. Brute force: CP2K relaxes
every site from its built geometry (a campaign without a funnel). Each tier (``funnel.verify``
relax, single_point, single_point_only; CHGNet + SevenNet screens) is then run as its own funnel
campaign on the same store: the MLIP screens are shared, and each tier's DFT calculations are
counted from its own stage plans whether or not another tier computed them first. Counted:
every DFT calculation of the group's complexes and host (ionic steps = force evaluations; a single
point is one); the alkali's bulk reference is shared by everything and left out. Success: the
tier's best bulk-referenced binding energy is within 0.05 eV of the brute-force best, or lower.

The store (``bench.db``, committed as ``bench.db.gz``) keeps every calculation, so a group that is
done costs nothing to re-derive, and groups run one at a time across sessions (results merge by
group into ``results.json``; ``summary.json`` is rewritten from them). ``--check NAME`` runs CP2K
single points at tighter settings on the brute-force minima of a group and compares the site order.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from anodescreen.db.calcs import stored_calcs
from anodescreen.engines import Cp2kEngine
from anodescreen.launchers.local import run_campaign
from anodescreen.workflows.funnel import energy_quantities
from anodescreen.workflows.plan import plan_campaign
from anodescreen.workflows.spec import CampaignSpec
from anodescreen.workflows.stages import Stages
from _packed import packed_stores  # benchmarks/_packed.py, beside this script

#: CP2K at screening-benchmark cost (2 cores): Γ only (k-spacing 1.0 on 3×3 cells), 250 Ry
CP2K = {"name": "cp2k", "cutoff": 250, "rel_cutoff": 40, "kspacing": 1.0, "fmax": 0.1, "max_steps": 80}
#: the site-order check: denser k-points (2×2×1) and cutoff
TIGHT = {**CP2K, "cutoff": 400, "rel_cutoff": 50, "kspacing": 0.5}


def _graphene(defect: str) -> dict:
    return {"family": "graphene", "size": "3x3", "defects": [defect], "site_radius": 3.0, "vacuum": 10.0}


# Zn2+ (d10) is closed-shell, so its host runs unpolarised; magnetic SACs need the VASP engine (README)
_ZN = {"family": "sac", "metals": ["Zn"], "size": "3x3", "site_radius": 2.5, "vacuum": 10.0}
GROUPS = {
    "Li@SV-G(3x3)": (_graphene("sv"), "Li"),
    "Na@SV-G(3x3)": (_graphene("sv"), "Na"),
    "K@SV-G(3x3)": (_graphene("sv"), "K"),
    "Li@pyN3-G(3x3)": (_graphene("pyridinic-N3"), "Li"),
    "Na@pyN3-G(3x3)": (_graphene("pyridinic-N3"), "Na"),
    "K@pyN3-G(3x3)": (_graphene("pyridinic-N3"), "K"),
    "Li@Zn-N4(3x3)": (_ZN, "Li"),
    "Na@Zn-N4(3x3)": (_ZN, "Na"),
}
TIERS = {
    "relax": {"verify": "relax", "top_k": 1, "margin": 0.05},
    "single_point": {"verify": "single_point", "relax_top": 1},
    "single_point_only": {"verify": "single_point_only"},
}
SUCCESS = 0.05


def spec_for(group: str, tier: str | None) -> CampaignSpec:
    host, element = GROUPS[group]
    slug = "".join(c if c.isalnum() else "-" for c in group)
    data = {"name": f"bench-{slug}-{tier or 'brute'}", "hosts": [host], "adsorbates": [{"element": element}],
            "calculations": ["binding_energy"], "references": ["bulk"], "engine": CP2K}
    if tier is not None:
        data["funnel"] = {"screen": ["CHGNet", "SevenNet"], **TIERS[tier]}
    return CampaignSpec.model_validate(data)


def dft_cost(plans: list, stores) -> dict:
    """Force evaluations and wall time of the non-reference calculations of ``plans``, and the best
    bulk-referenced binding energy of their relaxed quantities (of their single points if none is relaxed),
    eV."""
    keys = {k for plan in plans for k, r in plan.calcs.items() if not r.reference}
    docs = stored_calcs(stores, sorted(keys))
    complexes = {q.complex_key: q.site for plan in plans for q in energy_quantities(plan)}
    rows = list(stores.results.query({"calc_keys.complex": {"$in": sorted(complexes)}, "reference": "bulk",
                                      "lot_key": Cp2kEngine(**CP2K).level_of_theory().key}))
    values = {complexes[r["calc_keys"]["complex"]]: r["value"] for r in rows if not r.get("single_point")}
    points = {complexes[r["calc_keys"]["complex"]]: r["value"] for r in rows if r.get("single_point")}
    answer = values or points  # a tier's result: its relaxed rows, or (single_point_only) its single points
    return {"force_evaluations": sum(docs[k][0].n_steps for k in keys if k in docs),
            "wall_s": round(sum(docs[k][0].elapsed_s or 0 for k in keys if k in docs), 1),
            "missing": len(keys - set(docs)), "failed": sorted(docs[k][0].label for k in keys
                                                               if k in docs and docs[k][0].state != "successful"),
            "steps": {complexes[k]: docs[k][0].n_steps for k in complexes if k in docs},
            "values": values, "single_points": points, "best": min(answer.values()) if answer else None}


def run_group(group: str, stores, out: Path) -> dict:
    start = time.perf_counter()
    brute_spec = spec_for(group, None)
    run_campaign(brute_spec, stores, root_dir=out / "runs")
    brute = dft_cost([plan_campaign(brute_spec)], stores)
    result = {"group": group, "sites": len(brute["steps"]), "brute_force": brute, "tiers": {}}
    for tier in TIERS:
        spec = spec_for(group, tier)
        report = run_campaign(spec, stores, root_dir=out / "runs")
        stages = Stages(spec, stores)
        plans = [stages.plan(i) for i, name in enumerate(stages.names) if name.startswith("DFT ")]
        cost = dft_cost(plans, stores)
        screens = [stages.plan(i) for i, name in enumerate(stages.names) if name.startswith("screen ")]
        mlip = stored_calcs(stores, sorted({k for p in screens for k in p.calcs}))
        (decision,) = report.funnel
        cost |= {"success": cost["best"] is not None and cost["best"] - brute["best"] <= SUCCESS,
                 "above_brute_best": None if cost["best"] is None else round(cost["best"] - brute["best"], 4),
                 "ratio_force_evaluations": round(brute["force_evaluations"] / max(cost["force_evaluations"], 1), 2),
                 "ratio_wall": round(brute["wall_s"] / max(cost["wall_s"], 1e-9), 2),
                 "mlip_wall_s": round(sum(d.elapsed_s or 0 for d, _ in mlip.values()), 1),
                 "decision": decision.model_dump(mode="json", exclude={"rankings"})}
        if tier == "relax":  # warm vs cold ionic steps on the same sites
            cost["warm_vs_cold_steps"] = {s: [n, brute["steps"].get(s)] for s, n in cost["steps"].items()}
        result["tiers"][tier] = cost
    result["total_s"] = round(time.perf_counter() - start, 1)
    return result


def check_order(group: str, stores) -> dict:
    """Tighter-setting CP2K single points on the brute-force minima: the same best site and order?"""
    spec = spec_for(group, None)
    plan = plan_campaign(spec)
    tight = Cp2kEngine(**TIGHT)
    docs = stored_calcs(stores, [q.complex_key for q in plan.quantities])
    from pymatgen.core import Structure

    energies = {}
    for q in plan.quantities:
        doc = docs[q.complex_key][0]
        result = tight.run(Structure.from_dict(doc.structure), "static", Path("benchmarks/results/funnel/runs/check")
                           / q.complex_key)
        energies[q.site] = (doc.energy, result.energy)
    order = {name: sorted(energies, key=lambda s, i=i: energies[s][i]) for i, name in enumerate(("bench", "tight"))}
    low = {i: min(e[i] for e in energies.values()) for i in (0, 1)}
    return {"group": group, "tight": TIGHT, "order": order, "same_best": order["bench"][0] == order["tight"][0],
            "relative": {s: [round(e[0] - low[0], 4), round(e[1] - low[1], 4)] for s, e in energies.items()}}


def summary(results: list[dict]) -> dict:
    return {"groups": [{"name": r["group"], "sites": r["sites"],
                        "brute_force_evals": r["brute_force"]["force_evaluations"],
                        "tiers": {t: {"dft_force_evals": c["force_evaluations"], "success": c["success"]}
                                  for t, c in r["tiers"].items()}} for r in results]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", action="append", choices=sorted(GROUPS))
    parser.add_argument("--check", choices=sorted(GROUPS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/funnel"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "results.json"
    done = {r["group"]: r for r in json.loads(path.read_text())} if path.exists() else {}
    with packed_stores(args.out) as stores:
        if args.check:
            check = check_order(args.check, stores)
            (args.out / "order_check.json").write_text(json.dumps(check, indent=1))
            print(json.dumps(check, indent=1))
        for group in args.group or ([] if args.check else list(GROUPS)):
            done[group] = run_group(group, stores, args.out)
            path.write_text(json.dumps([done[g] for g in GROUPS if g in done], indent=1))
            (args.out / "summary.json").write_text(json.dumps(summary([done[g] for g in GROUPS if g in done]),
                                                              indent=1))
            print(json.dumps(summary([done[group]]), indent=1), flush=True)


if __name__ == "__main__":
    main()
