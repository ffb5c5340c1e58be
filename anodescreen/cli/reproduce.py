"""The reproduce command: literature targets recomputed and compared."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from anodescreen.errors import AnodescreenError
from anodescreen.cli.common import DbConfig, app, one_line_errors, open_store, out, quiet_libraries


@app.command("reproduce")
@one_line_errors
def reproduce_(
    engine: str = typer.Option("mlip", help="mlip, cp2k, gpaw or vasp (their default settings)"),
    option: list[str] | None = typer.Option(None, "--engine-option",
                                               help="KEY=VALUE engine setting, repeatable (e.g. cutoff=300)"),
    only: list[str] | None = typer.Option(None, help="target names or categories, repeatable; 'prefix*' works"),
    list_targets: bool = typer.Option(False, "--list", help="list the targets and exit"),
    as_json: bool = typer.Option(False, "--json", help="print the outcomes as JSON"),
    plot: Path | None = typer.Option(Path("reproduce-parity.png"), help="parity plot to write"),
    workers: int = typer.Option(1, min=1, help="calculations run in parallel"),
    db_config: Path | None = DbConfig,
) -> None:
    """Recompute literature targets with an engine; table of deviations, MAE per category, parity plot."""
    import yaml
    from pydantic import ValidationError

    from anodescreen.db.stores import refuse_store_file
    from anodescreen.engines import engine_from_fields
    from anodescreen.reproduce.harness import category_mae, parity_plot, reproduce, select_targets

    quiet_libraries()
    targets = select_targets(only)
    if list_targets:
        table = Table(title=f"{len(targets)} literature targets")
        for column in ("name", "category", "literature", "unit", "tolerance", "source"):
            table.add_column(column)
        for t in targets:
            tol = ", ".join(f"{k} {v:g}" for k, v in t.tolerance.items()) or "sign"
            table.add_row(t.name, t.category, f"{t.value:g}" if t.expect == "value" else t.expect, t.unit, tol,
                          t.citation[:60])
        out.print(table)
        return
    fields: dict[str, object] = {"name": engine}
    for pair in option or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise AnodescreenError(f"--engine-option {pair!r} is not KEY=VALUE", "engine-option")
        fields[key] = yaml.safe_load(value)
    try:
        chosen = engine_from_fields(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise AnodescreenError(f"engine: {'.'.join(str(x) for x in err['loc'][1:]) or engine}: {err['msg']}",
                               "engine") from None
    stores = open_store(db_config)
    try:
        if plot is not None:
            refuse_store_file(stores.results, plot)
        outcomes = reproduce(stores, chosen, [t.name for t in targets], workers=workers)
    finally:
        stores.close()
    if as_json:
        from dataclasses import asdict

        print(json.dumps([asdict(o) for o in outcomes], indent=1))
        return
    table = Table(title=f"literature targets, {chosen.level_of_theory().summary()}",
                  caption="sign targets pass on the expected sign; MLIP values rank, they are not DFT")
    for column in ("target", "literature", "computed", "deviation", "tolerance", "unit", "ok", "note"):
        table.add_column(column, justify="right" if column in ("literature", "computed", "deviation") else "left")
    verdict = {True: "[green]yes[/green]", False: "[red]NO[/red]", None: "-"}
    for o in outcomes:
        table.add_row(o.name, o.expected, "" if o.computed is None else f"{o.computed:.4g}",
                      "" if o.deviation is None else f"{o.deviation:+.3g}",
                      "" if o.tolerance is None else f"{o.tolerance:g}", o.unit, verdict[o.passed], o.note)
    out.print(table)
    for category, (mae, n) in category_mae(outcomes).items():
        out.print(f"MAE {category}: {mae:.4g} over {n} targets", highlight=False)
    done = [o for o in outcomes if o.passed is not None]
    out.print(f"{sum(o.passed for o in done)}/{len(done)} computed targets within tolerance; "
              f"{len(outcomes) - len(done)} not computed", highlight=False)
    if plot is not None and parity_plot(outcomes, plot):
        out.print(f"parity plot: {plot}", highlight=False)
