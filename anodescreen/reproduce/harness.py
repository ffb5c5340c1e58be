"""Recompute literature targets with a chosen engine and report the deviations.

Targets that need calculations run as ordinary campaigns (``reproduce-<name>``) through
:func:`~anodescreen.launchers.local.run_campaign`, so their rows land in the store,
calculations already stored are reused, and a failed calculation leaves its target
"not computed" while the others carry on. Each outcome is stored in the campaigns
collection (document ``reproduce-<engine>``); a value target tied to one row also writes
``details.literature`` into that row, which the HTML report plots as parity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from anodescreen.analysis.energies import capacity
from anodescreen.db.stores import Stores
from anodescreen.engines.base import Engine
from anodescreen.errors import AnodescreenError
from anodescreen.reproduce.targets import RowSpec, Target, campaigns, load_targets


@dataclass
class Outcome:
    """One target's literature value, the computed one and the verdict."""

    name: str
    category: str
    expected: str  # the literature value, or "negative"/"positive"
    literature: float | None
    computed: float | None
    deviation: float | None
    tolerance: float | None
    passed: bool | None  # None: not computed, or not compared (another energy form)
    unit: str
    note: str = ""
    row_id: str | None = None


def select_targets(only: list[str] | None = None) -> list[Target]:
    """All targets, or those whose name or category is in ``only`` (names may end in ``*``)."""
    targets = load_targets()
    if not only:
        return targets
    chosen = []
    for pattern in only:
        hits = [t for t in targets if t.name == pattern or t.category == pattern
                or (pattern.endswith("*") and t.name.startswith(pattern[:-1]))]
        if not hits:
            raise AnodescreenError(f"no target or category {pattern!r} (see 'anodescreen reproduce --list')", "only")
        chosen += [t for t in hits if t not in chosen]
    return chosen


def _specs(targets: list[Target], engine: Engine) -> dict[str, object]:
    """Campaign specs the targets need, by campaign name."""
    from anodescreen.workflows.spec import CampaignSpec

    fragments = campaigns()
    specs = {}
    formation = sorted({c for t in targets if t.campaign == "formation" for c in t.compounds})
    if formation:
        specs["formation"] = {"compounds": formation, "calculations": ["formation_energy"]}
    for t in targets:
        if t.campaign and t.campaign != "formation":
            specs[t.campaign] = fragments[t.campaign]
    return {name: CampaignSpec.model_validate({"name": f"reproduce-{name}", **fields, "engine": engine.model_dump()})
            for name, fields in specs.items()}


def _best_row(stores: Stores, spec: RowSpec, lot_key: str) -> dict | None:
    criteria = {"kind": spec.kind, "host.label": spec.host, "adsorbate.element": spec.adsorbate,
                "reference": spec.reference, "lot_key": lot_key}
    rows = list(stores.results.query(criteria, properties=["row_id", "value"]))
    return min(rows, key=lambda r: (r["value"], r["row_id"])) if rows else None


def _host_energy(stores: Stores, label: str, lot_key: str) -> float | None:
    docs = list(stores.jobstore.query({"output.label": label, "output.lot_key": lot_key,
                                       "output.state": "successful"},
                                      properties=["output.energy", "output.n_sites", "output.completed_at"]))
    if not docs:
        return None
    out = max(docs, key=lambda d: str(d["output"]["completed_at"]))["output"]
    return out["energy"] / out["n_sites"]


def _compute(target: Target, stores: Stores, lot_key: str) -> tuple[float | None, str | None, str]:
    """(computed value, row id when it is one row's value, note)."""
    c = target.compute
    if c.how == "capacity":
        from anodescreen.structures import intercalated_bilayer, metal_multilayer_bilayer

        s = intercalated_bilayer(c.metal, "AB") if c.layers == 1 else metal_multilayer_bilayer(c.metal, "AB", c.layers)
        value = capacity(s.composition[c.metal], f"C{int(s.composition['C'])}", c.metal, include_metal_mass=True)
        return value, None, s.properties["label"]
    if c.how == "row":
        row = _best_row(stores, c.row(), lot_key)
        return (row["value"], row["row_id"], "") if row else (None, None, "not computed (see 'anodescreen status')")
    if c.how == "difference":
        a, b = _best_row(stores, c.first, lot_key), _best_row(stores, c.second, lot_key)
        if a is None or b is None:
            return None, None, "not computed (see 'anodescreen status')"
        return a["value"] - b["value"], None, f"{a['value']:.3f} - {b['value']:.3f}"
    if c.how == "host_difference":
        energies = [_host_energy(stores, label, lot_key) for label in c.hosts]
        if None in energies:
            return None, None, "not computed (see 'anodescreen status')"
        return energies[0] - energies[1], None, ""
    return None, None, f"not run: {c.reason}"


def evaluate(target: Target, stores: Stores, engine_class: str, lot_key: str, energy_form: str = "GGA") -> Outcome:
    """Compare one target with what the store holds at ``lot_key`` (``energy_form``: its energies' form;
    a target of another form is shown, not compared)."""
    value, row_id, note = _compute(target, stores, lot_key)
    tolerance = target.tolerance_for(engine_class)
    expected = f"{target.value:g}" if target.expect == "value" else target.expect
    outcome = Outcome(target.name, target.category, expected, target.value, value, None, tolerance, None,
                      target.unit, note, row_id)
    if value is not None and target.energy_form not in (None, energy_form):
        outcome.note = f"not compared: these energies are {energy_form}, the target {target.energy_form}"
        return outcome
    if value is None:
        return outcome
    if target.expect == "value":
        outcome.deviation = value - target.value
        outcome.passed = tolerance is not None and abs(outcome.deviation) <= tolerance
    else:
        outcome.passed = value < 0 if target.expect == "negative" else value > 0
    return outcome


def reproduce(stores: Stores, engine: Engine, only: list[str] | None = None, **run_kwargs) -> list[Outcome]:
    """Run the campaigns the selected targets need, then evaluate every target."""
    from anodescreen.launchers.local import run_campaign

    targets = select_targets(only)
    for spec in _specs(targets, engine).values():
        run_campaign(spec, stores, **run_kwargs)
    engine_class = "mlip" if engine.name == "mlip" else "dft"
    lot = engine.level_of_theory()
    outcomes = [evaluate(t, stores, engine_class, lot.key, engine.energy_form) for t in targets]
    _record(stores, targets, outcomes, engine.name, lot.key)
    return outcomes


def _record(stores: Stores, targets: list[Target], outcomes: list[Outcome], engine: str, lot_key: str) -> None:
    """Store the outcomes; put each value target's literature number on its row."""
    literature: dict[str, list[dict]] = defaultdict(list)
    for t, o in zip(targets, outcomes):
        if o.row_id and t.expect == "value":
            literature[o.row_id].append({"name": t.name, "value": t.value, "tolerance": o.tolerance,
                                         "citation": t.citation, "source_theory": t.source_theory})
    for doc in stores.results.query({"row_id": {"$in": sorted(literature)}}):
        doc.pop("_id", None)
        known = {e["name"]: e for e in doc.get("details", {}).get("literature", [])}
        known.update({e["name"]: e for e in literature[doc["row_id"]]})
        doc["details"] = {**doc.get("details", {}), "literature": sorted(known.values(), key=lambda e: e["name"])}
        stores.results.update(doc, key="row_id")
    name = f"reproduce-{engine}"
    previous = stores.campaigns.query_one({"name": name}) or {}
    table = {o["name"]: o for o in previous.get("reproduction", [])} | {o.name: asdict(o) for o in outcomes}
    stores.campaigns.update({"name": name, "lot_key": lot_key, "reproduction": sorted(table.values(),
                                                                                        key=lambda o: o["name"])},
                            key="name")


def category_mae(outcomes: list[Outcome]) -> dict[str, tuple[float, int]]:
    """Mean absolute deviation and count per category, over computed value targets."""
    groups: dict[str, list[float]] = defaultdict(list)
    for o in outcomes:
        if o.deviation is not None:
            groups[o.category].append(abs(o.deviation))
    return {k: (sum(v) / len(v), len(v)) for k, v in sorted(groups.items())}


def parity_plot(outcomes: list[Outcome], path) -> int:
    """Computed vs literature for computed value targets, one panel per unit; points drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_unit: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.deviation is not None:
            by_unit[o.unit].append(o)
    if not by_unit:
        return 0
    fig, axes = plt.subplots(1, len(by_unit), figsize=(4.2 * len(by_unit), 4.2), squeeze=False)
    for ax, (unit, group) in zip(axes[0], sorted(by_unit.items())):
        lit, got = [o.literature for o in group], [o.computed for o in group]
        lo, hi = min(lit + got), max(lit + got)
        pad = 0.05 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=0.8)
        for ok, colour in ((True, "tab:green"), (False, "tab:red")):
            sel = [(o.literature, o.computed) for o in group if o.passed == ok]
            if sel:
                ax.scatter(*zip(*sel), s=16, color=colour, label="within tolerance" if ok else "outside")
        ax.set_xlabel(f"literature ({unit})")
        ax.set_ylabel(f"computed ({unit})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return sum(len(g) for g in by_unit.values())
