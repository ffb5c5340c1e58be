"""Database commands: query, show, references, export, import, report."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer
from rich.table import Table

from anodescreen.cli.common import DbConfig, Where, app, one_line_errors, open_store, out, parse_where, print_rows, quiet_libraries


@app.command()
@one_line_errors
def query(
    family: str | None = typer.Option(None, help="sac, graphene, bilayer, ..."),
    host: str | None = typer.Option(None, help="host label, e.g. 'Fe-N4@G(5x5)'"),
    metal: str | None = typer.Option(None, help="single-atom metal of SAC hosts"),
    adsorbate: str | None = typer.Option(None, help="alkali element"),
    site: str | None = typer.Option(None),
    kind: str | None = typer.Option(None, help="binding_energy, intercalation_energy, formation_energy, ..."),
    reference: str | None = typer.Option(None, help="bulk, atom, elements or none"),
    engine: str | None = typer.Option(None, help="mlip, cp2k, gpaw or vasp"),
    campaign: str | None = typer.Option(None),
    where: list[str] | None = Where,
    min_value: float | None = typer.Option(None, "--min", help="lowest value"),
    max_value: float | None = typer.Option(None, "--max", help="highest value"),
    best: bool = typer.Option(False, help="only the best site per host × adsorbate"),
    group: str | None = typer.Option(None, help="keep the best row per these columns, e.g. 'metal,adsorbate'"
                                                   " (within kind × reference × level of theory)"),
    sort: str = typer.Option("value", help="column to sort by within each kind × reference"),
    desc: bool = typer.Option(False, help="sort descending"),
    limit: int | None = typer.Option(None, min=1),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    as_csv: bool = typer.Option(False, "--csv", help="print CSV"),
    db_config: Path | None = DbConfig,
) -> None:
    """Stored results, most favourable first. Filterable fields: the options above and, with
    --where, motif, stacking, phase, count, final_site, method, vdw, is_dft, lot_key."""
    from anodescreen.db.queries import query_rows

    filters = {"family": family, "host": host, "metal": metal, "adsorbate": adsorbate, "site": site,
               "kind": kind, "reference": reference, "engine": engine, "campaign": campaign} | parse_where(where)
    stores = open_store(db_config)
    try:
        rows = query_rows(stores.results, filters, (min_value, max_value), best=best, limit=limit, sort=sort,
                          descending=desc, group=tuple(g.strip() for g in group.split(",")) if group else None)
    finally:
        stores.close()
    if as_json:
        print(json.dumps(rows, indent=1))
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["value"])
        writer.writeheader()
        writer.writerows(rows)
    else:
        print_rows(rows)

@app.command()
@one_line_errors
def export(
    path: Path = typer.Argument(..., help="output file: .json, .db (ASE database), .csv or .extxyz"),
    where: list[str] | None = Where,
    force: bool = typer.Option(False, help="replace an existing file"),
    db_config: Path | None = DbConfig,
) -> None:
    """Write stored rows (all, or those matching --where) to a file ASE and pandas read."""
    from anodescreen.db.exchange import export_rows

    stores = open_store(db_config)
    try:
        n = export_rows(stores.results, path, parse_where(where), overwrite=force)
    finally:
        stores.close()
    out.print(f"{n} rows written to {path}", highlight=False)

@app.command("import")
@one_line_errors
def import_(
    path: Path = typer.Argument(..., help="a .json or .db file written by 'anodescreen export'"),
    db_config: Path | None = DbConfig,
) -> None:
    """Add exported rows to this store; rows it already holds are not duplicated."""
    from anodescreen.db.exchange import import_rows

    stores = open_store(db_config)
    try:
        new, unchanged, updated = import_rows(stores.results, path)
    finally:
        stores.close()
    out.print(f"{path}: {new} new, {updated} updated, {unchanged} already stored", highlight=False)

@app.command()
@one_line_errors
def report(
    output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML file to write"),
    campaign: str | None = typer.Option(None, help="only this campaign's rows"),
    where: list[str] | None = Where,
    db_config: Path | None = DbConfig,
) -> None:
    """One self-contained HTML page: energy maps, NEB profiles, Δρ(z), parity with literature."""
    from anodescreen.db.report import write_report
    from anodescreen.properties import report_sections

    quiet_libraries()
    stores = open_store(db_config)
    try:
        shown = write_report(stores.results, output, report_sections(), {"campaign": campaign} | parse_where(where),
                             title=f"anodescreen: {campaign}" if campaign else None,
                             funnel=funnel_table(stores, campaign))
    finally:
        stores.close()
    out.print(f"{output}: {shown['rows']} rows, {shown['figures']} figures", highlight=False)

@app.command()
@one_line_errors
def references(db_config: Path | None = DbConfig) -> None:
    """The reference registry: bulk metals, atoms and elemental ground states per level of theory."""
    from anodescreen.db.queries import stored_references

    stores = open_store(db_config)
    table = Table(title="reference states (computed once per level of theory)")
    for column in ("label", "engine", "method", "vdW", "eV/atom", "lot_key", "calc_key"):
        table.add_column(column, justify="right" if column == "eV/atom" else "left")
    for r in stored_references(stores.jobstore):
        table.add_row(r["label"], r["engine"], r["method"], r["vdw"] or "", f"{r['energy_per_atom']:.4f}",
                      r["lot_key"], r["calc_key"])
    out.print(table)
    stores.close()

@app.command()
@one_line_errors
def show(row_id: str = typer.Argument(..., help="row id or a unique prefix of it"),
         db_config: Path | None = DbConfig) -> None:
    """Everything stored for one row, as JSON."""
    from anodescreen.db.queries import get_row

    stores = open_store(db_config)
    doc = get_row(stores.results, row_id)
    stores.close()
    print(json.dumps(doc, indent=1, default=str))


def funnel_table(stores, campaign: str | None) -> list[list[str]]:
    """One report row per funnel group of the stored campaigns (or of ``campaign``)."""
    from anodescreen.workflows.funnel import GroupDecision

    rows = []
    for doc in stores.campaigns.query({"name": campaign} if campaign else {}, properties=["name", "funnel"]):
        for d in map(GroupDecision.model_validate, doc.get("funnel") or []):
            rows.append([doc["name"], d.host, d.region, d.element, "DFT" if d.dft else "MLIP only", d.summary()])
    return sorted(rows)
