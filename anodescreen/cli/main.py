"""The ``anodescreen`` command: run, status, query, references, show, build."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
import warnings
from functools import wraps
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from anodescreen.errors import AnodescreenError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="High-throughput screening of alkali-metal anode hosts.")
out = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbConfig = typer.Option(None, "--db-config", help="store config file (db_config/*.yaml); default: embedded ./anodescreen.db")


def _one_line_errors(func):
    """Bad input and unusable stores end the command with one line and exit code 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AnodescreenError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # never show a traceback unless asked to
            if os.environ.get("ANODESCREEN_DEBUG"):
                raise
            msg = str(exc).splitlines()[0] if str(exc) else ""
            err.print(f"[red]internal error:[/red] {type(exc).__name__}: {msg} "
                      "(set ANODESCREEN_DEBUG=1 for details)", highlight=False)
            raise typer.Exit(3) from None

    return wrapper


def _quiet_libraries() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")


def _open(db_config: Path | None, spec_store: str | None = None):
    from anodescreen.db.stores import open_stores

    return open_stores(db_config if db_config is not None else spec_store)


@app.command()
@_one_line_errors
def run(
    spec: Path = typer.Argument(..., help="campaign YAML file"),
    db_config: Path | None = DbConfig,
    retry_failed: bool = typer.Option(False, help="recompute calculations stored as failed"),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), min=1,
                                help="calculations run in parallel (each gets cores/workers threads)"),
) -> None:
    """Build, compute and store a campaign; re-running computes only what is missing."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from anodescreen.launchers.local import run_campaign
    from anodescreen.workflows.spec import load_spec

    _quiet_libraries()
    campaign = load_spec(spec)
    stores = _open(db_config, campaign.store)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(campaign.name, total=None)

        def step(label: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=f"{campaign.name}: {label}")

        result = run_campaign(campaign, stores, retry_failed=retry_failed, on_progress=step, workers=workers)
        progress.update(task, description=campaign.name)
    for stage, report in result.stages:
        h = report.harvest
        name = campaign.name if len(result.stages) == 1 else f"{campaign.name} [{stage}]"
        out.print(f"{name}: {report.planned} calculations ({report.reused} reused, "
                  f"{report.computed} computed, {len(report.failed)} failed); rows: {h.new} new, "
                  f"{h.updated} updated, {h.unchanged} unchanged"
                  + (f", {h.superseded} relabelled rows replaced" if h.superseded else ""), highlight=False)
        for label, reason in report.failed:
            out.print(f"  failed {label}: {reason}", highlight=False)
    for d in result.funnel:
        total = len(next(iter(d.rankings.values()), []))
        best = ", ".join(f"{m}: {s}" for m, s in d.best.items())
        dft = f"; DFT best {d.dft_ranking[0][0]}" if d.dft_ranking else ""
        warn = " [potentials disagree]" if d.disagree else ""
        out.print(f"funnel {d.host} {d.region} {d.element}: {len(d.selected)}/{total} sites to DFT "
                  f"({best}{dft}){warn}", highlight=False)
        for line in d.dft_flags():
            out.print(f"  {line}", highlight=False)
    stores.close()


@app.command()
@_one_line_errors
def submit(
    spec: Path = typer.Argument(..., help="campaign YAML file"),
    launcher: str | None = typer.Option(None, help="fireworks or jobflow-remote (default: the spec's "
                                                      "launcher, else fireworks)"),
    launchpad: Path = typer.Option(Path("db_config/launchpad.yaml"), help="LaunchPad config"),
    queue: Path | None = typer.Option(None, help="queue config (db_config/queue_slurm.yaml or queue_pbs.yaml): "
                                                    "also submit batch jobs that run the workers"),
    jobs: int = typer.Option(1, min=1, help="batch jobs to submit with --queue"),
    project: str | None = typer.Option(None, help="jobflow-remote project (default: jobflow-remote's default)"),
    worker: str | None = typer.Option(None, help="jobflow-remote worker for the calculations"),
    harvest_worker: str | None = typer.Option(None, help="jobflow-remote worker that reaches the store, for "
                                                            "the stage jobs that harvest (default: --worker)"),
    wait: bool = typer.Option(False, help="jobflow-remote: run the runner here until every job is done"),
    retry_failed: bool = typer.Option(False, help="include calculations stored as failed"),
    db_config: Path | None = DbConfig,
) -> None:
    """Add a campaign to a FireWorks LaunchPad (with --queue, also submit workers) or a jobflow-remote project."""
    from anodescreen.workflows.spec import load_spec

    _quiet_libraries()
    campaign = load_spec(spec)
    launcher = launcher or (campaign.launcher if campaign.launcher != "local" else "fireworks")
    if launcher not in ("fireworks", "jobflow-remote"):
        raise AnodescreenError(f"unknown launcher {launcher!r} (fireworks or jobflow-remote)", "launcher")
    if launcher == "jobflow-remote":
        _submit_jobflow_remote(campaign, _open(db_config, campaign.store), project, worker, harvest_worker, wait,
                               retry_failed)
        return
    from anodescreen.launchers.fireworks import load_launchpad, persist, submit_fireworks

    queue_config = None
    if queue is not None:
        from anodescreen.launchers.queues import load_queue

        queue_config = load_queue(queue)  # checked before anything is added
    stores = _open(db_config, campaign.store)
    try:
        pad = load_launchpad(launchpad)
        n_fireworks, n_calcs = submit_fireworks(campaign, stores, pad, retry_failed=retry_failed)
    finally:
        stores.close()
    out.print(f"{campaign.name}: {n_fireworks} Fireworks added ({n_calcs} calculations + harvest)", highlight=False)
    persist(pad)
    if queue_config is not None:
        from fireworks import FWorker
        from fireworks.queue.queue_launcher import rapidfire as queue_rapidfire

        from anodescreen.launchers.queues import qadapter

        queue_rapidfire(pad, FWorker(), qadapter(queue_config), nlaunches=jobs, njobs_queue=0, sleep_time=0)
        out.print(f"{jobs} {queue_config.system} job(s) submitted", highlight=False)


def _print_states(launcher: str, states: dict[str, dict[str, int]]) -> None:
    for name, counts in sorted(states.items()):
        out.print(f"{launcher} {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), highlight=False)


def _submit_jobflow_remote(campaign, stores, project, worker, harvest_worker, wait, retry_failed) -> None:
    from anodescreen.launchers.jfremote import (
        jobflow_remote_states,
        load_project,
        run_until_done,
        submit_jobflow_remote,
    )

    try:
        proj = load_project(project)
        n_jobs, n_calcs = submit_jobflow_remote(campaign, stores, proj, worker, harvest_worker, retry_failed)
        out.print(f"{campaign.name}: {n_jobs} jobs added to jobflow-remote project {proj.name} "
                  f"({n_calcs} calculations + harvest)", highlight=False)
        if wait:
            run_until_done(proj)
            _print_states("jobflow-remote", jobflow_remote_states(proj, campaign.name))
    finally:
        stores.close()


@app.command()
@_one_line_errors
def worker(
    launchpad: Path = typer.Option(Path("db_config/launchpad.yaml"), help="LaunchPad config"),
    launches: int = typer.Option(0, min=0, help="Fireworks to run before stopping (0: until none is ready)"),
) -> None:
    """Run ready Fireworks here (what a batch job's script calls)."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    from anodescreen.launchers.fireworks import load_launchpad

    _quiet_libraries()
    rapidfire(load_launchpad(launchpad), FWorker(), nlaunches=launches)


@app.command()
@_one_line_errors
def rerun(
    spec: Path = typer.Argument(..., help="campaign YAML file"),
    failed: bool = typer.Option(True, "--failed/--no-failed", help="recompute the calculations stored as failed"),
    db_config: Path | None = DbConfig,
    workers: int = typer.Option(1, min=1),
) -> None:
    """Run a campaign again, recomputing its failed calculations (each engine applies its retry policy)."""
    run(spec=spec, db_config=db_config, retry_failed=failed, workers=workers)


@app.command()
@_one_line_errors
def status(db_config: Path | None = DbConfig,
           launchpad: Path | None = typer.Option(None, help="also show Firework states from this LaunchPad "
                                                               "config (db_config/launchpad*.yaml)"),
           project: str | None = typer.Option(None, help="also show job states from this jobflow-remote "
                                                            "project")) -> None:
    """Calculations by state (with failure reasons), stored rows by kind, and launcher job states."""
    launchers = []
    if launchpad is not None:
        from anodescreen.launchers.fireworks import fireworks_states, load_launchpad

        launchers.append(("fireworks", fireworks_states(load_launchpad(launchpad))))
    if project is not None:
        from anodescreen.launchers.jfremote import jobflow_remote_states

        launchers.append(("jobflow-remote", jobflow_remote_states(project)))
    for launcher, states in launchers:
        _print_states(launcher, states)
    from anodescreen.workflows.funnel import GroupDecision

    stores = _open(db_config)
    by_state: dict[str, int] = {}
    failures = []
    for doc in stores.jobstore.query({}, properties=["output.state", "output.label", "output.reason", "name"]):
        output = doc.get("output") or {}
        state = output.get("state", "unknown")
        by_state[state] = by_state.get(state, 0) + 1
        if state == "failed":
            failures.append((output.get("label", doc.get("name")), output.get("reason")))
    table = Table(title="calculations")
    table.add_column("state")
    table.add_column("count", justify="right")
    for state in sorted(by_state):
        table.add_row(state, str(by_state[state]))
    out.print(table)
    for label, reason in sorted(failures, key=lambda f: str(f[0])):
        out.print(f"failed {label}: {reason}", highlight=False)
    kinds: dict[str, int] = {}
    for doc in stores.results.query({}, properties=["kind"]):
        kinds[doc["kind"]] = kinds.get(doc["kind"], 0) + 1
    docs = sorted(stores.campaigns.query({}, properties=["name", "funnel"]), key=lambda d: d["name"])
    out.print(f"rows: {', '.join(f'{k} {n}' for k, n in sorted(kinds.items())) or 'none'}; "
              f"campaigns: {', '.join(d['name'] for d in docs) or 'none'}", highlight=False)
    for doc in docs:
        for d in map(GroupDecision.model_validate, doc.get("funnel") or []):
            missed = [m for m, ok in d.dft_best_matches.items() if not ok]
            notes = (["potentials disagree on the best site"] if d.disagree else []) \
                + ([f"DFT best differs from {', '.join(missed)}"] if missed else []) + d.dft_flags()
            if notes:
                out.print(f"funnel {doc['name']} {d.host} {d.region} {d.element}: {'; '.join(notes)} "
                          f"(MLIP best {d.best}; sent {sorted(d.selected)})", highlight=False)
    stores.close()


Where = typer.Option(None, "--where", help="FIELD=VALUE filter, repeatable (fields as in query --help)")


def _where(pairs: list[str] | None) -> dict[str, object]:
    """``field=value`` strings to a filter dict; is_dft and count are typed, the rest are strings."""
    filters: dict[str, object] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise AnodescreenError(f"--where {pair!r} is not FIELD=VALUE", "where")
        if name == "is_dft":
            if value.lower() not in ("true", "false"):
                raise AnodescreenError(f"--where is_dft must be true or false, not {value!r}", "where")
            filters[name] = value.lower() == "true"
        elif name == "count":
            if not value.isdigit():
                raise AnodescreenError(f"--where count must be a whole number, not {value!r}", "where")
            filters[name] = int(value)
        else:
            filters[name] = value
    return filters


@app.command()
@_one_line_errors
def query(
    family: str | None = typer.Option(None, help="sac, graphene, bilayer, ..."),
    host: str | None = typer.Option(None, help="host label, e.g. 'Fe-N4@G(5x5)'"),
    metal: str | None = typer.Option(None, help="single-atom metal of SAC hosts"),
    adsorbate: str | None = typer.Option(None, help="alkali element"),
    site: str | None = typer.Option(None),
    kind: str | None = typer.Option(None, help="binding_energy, intercalation_energy, formation_energy, ..."),
    reference: str | None = typer.Option(None, help="bulk, atom, elements or none"),
    engine: str | None = typer.Option(None, help="mlip, cp2k or vasp"),
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
               "kind": kind, "reference": reference, "engine": engine, "campaign": campaign} | _where(where)
    stores = _open(db_config)
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
        _table(rows)


@app.command()
@_one_line_errors
def export(
    path: Path = typer.Argument(..., help="output file: .json, .db (ASE database), .csv or .extxyz"),
    where: list[str] | None = Where,
    force: bool = typer.Option(False, help="replace an existing file"),
    db_config: Path | None = DbConfig,
) -> None:
    """Write stored rows (all, or those matching --where) to a file ASE and pandas read."""
    from anodescreen.db.exchange import export_rows

    stores = _open(db_config)
    try:
        n = export_rows(stores.results, path, _where(where), overwrite=force)
    finally:
        stores.close()
    out.print(f"{n} rows written to {path}", highlight=False)


@app.command("import")
@_one_line_errors
def import_(
    path: Path = typer.Argument(..., help="a .json or .db file written by 'anodescreen export'"),
    db_config: Path | None = DbConfig,
) -> None:
    """Add exported rows to this store; rows it already holds are not duplicated."""
    from anodescreen.db.exchange import import_rows

    stores = _open(db_config)
    try:
        new, unchanged, updated = import_rows(stores.results, path)
    finally:
        stores.close()
    out.print(f"{path}: {new} new, {updated} updated, {unchanged} already stored", highlight=False)


@app.command()
@_one_line_errors
def report(
    output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML file to write"),
    campaign: str | None = typer.Option(None, help="only this campaign's rows"),
    where: list[str] | None = Where,
    db_config: Path | None = DbConfig,
) -> None:
    """One self-contained HTML page: energy maps, NEB profiles, Δρ(z), parity with literature."""
    from anodescreen.db.report import write_report

    _quiet_libraries()
    stores = _open(db_config)
    try:
        shown = write_report(stores.results, output, {"campaign": campaign} | _where(where),
                             title=f"anodescreen: {campaign}" if campaign else None)
    finally:
        stores.close()
    out.print(f"{output}: {shown['rows']} rows, {shown['figures']} figures", highlight=False)


@app.command("reproduce")
@_one_line_errors
def reproduce_(
    engine: str = typer.Option("mlip", help="mlip, cp2k or vasp (their default settings)"),
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
    from anodescreen.workflows.reproduce import category_mae, parity_plot, reproduce, select_targets

    _quiet_libraries()
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
    stores = _open(db_config)
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


def _table(rows: list[dict]) -> None:
    if not rows:
        out.print("no rows match")
        return
    table = Table(caption="eV; negative = favourable; ranked within each kind × reference. "
                          "MLIP values rank candidates; they are not DFT.")
    for name in ("kind", "ref", "rank", "host", "adsorbate", "site", "final_site", "value", "method", "id"):
        table.add_column(name, justify="right" if name in ("rank", "value") else "left", no_wrap=True)
    group, rank = None, 0
    for r in rows:
        rank = rank + 1 if (r["kind"], r["reference"]) == group else 1
        if rank == 1 and group is not None:
            table.add_section()
        group = (r["kind"], r["reference"])
        table.add_row(r["kind"], r["reference"], str(rank), r["host"], r["adsorbate"], r["site"] or "",
                      r["final_site"] or "", f"{r['value']:.3f}",
                      f"{r['method']}{'' if r['is_dft'] else ' (MLIP)'}", r["row_id"][:10])
    out.print(table)


@app.command()
@_one_line_errors
def references(db_config: Path | None = DbConfig) -> None:
    """The reference registry: bulk metals, atoms and elemental ground states per level of theory."""
    from anodescreen.db.queries import stored_references

    stores = _open(db_config)
    table = Table(title="reference states (computed once per level of theory)")
    for column in ("label", "engine", "method", "vdW", "eV/atom", "lot_key", "calc_key"):
        table.add_column(column, justify="right" if column == "eV/atom" else "left")
    for r in stored_references(stores.jobstore):
        table.add_row(r["label"], r["engine"], r["method"], r["vdw"] or "", f"{r['energy_per_atom']:.4f}",
                      r["lot_key"], r["calc_key"])
    out.print(table)
    stores.close()


@app.command()
@_one_line_errors
def show(row_id: str = typer.Argument(..., help="row id or a unique prefix of it"),
         db_config: Path | None = DbConfig) -> None:
    """Everything stored for one row, as JSON."""
    from anodescreen.db.queries import get_row

    stores = _open(db_config)
    doc = get_row(stores.results, row_id)
    stores.close()
    print(json.dumps(doc, indent=1, default=str))


@app.command()
@_one_line_errors
def build(
    family: str = typer.Argument(..., help="sac, graphene, bilayer, heterostructure, slab, reference, compound"),
    output: Path = typer.Option(..., "-o", "--output", help="folder to write into"),
    metal: str = typer.Option("Fe", help="SAC metal, or the element of a reference"),
    motif: str = typer.Option("N4", help="SAC pocket"),
    size: str | None = typer.Option(None, help="supercell, e.g. 5x5 or r3xr3"),
    stacking: str = typer.Option("AB", help="bilayer stacking"),
    layers: int = typer.Option(1, help="bilayer: metal layers (1-4)"),
    defect: str = typer.Option("pristine", help="graphene defect"),
    phase: str = typer.Option("2H", help="heterostructure MoS2 phase (2H or 1T')"),
    region: str = typer.Option("gallery", help="heterostructure sites: gallery, top or bottom"),
    material: str = typer.Option("Cu", help="slab material (element or SEI formula) or compound formula"),
    miller: str = typer.Option("111", help="slab surface"),
    adsorbate: str | None = typer.Option(None, help="also write host + this alkali on every site"),
    site_radius: float = typer.Option(3.0, help="SAC sites within this distance of the metal (Å)"),
) -> None:
    """Write structures (POSCAR, CIF, extxyz) and a summary table, without computing."""
    from ase.io import write as ase_write
    from pydantic import ValidationError
    from pymatgen.io.ase import AseAtomsAdaptor

    from anodescreen.structures import bulk_metal, compound, isolated_atom
    from anodescreen.structures._geometry import min_distance
    from anodescreen.workflows.plan import _complexes, expand_hosts
    from anodescreen.workflows.spec import CampaignSpec, validation_message

    hosts = {
        "sac": {"metals": [metal], "motifs": [motif], "site_radius": site_radius},
        "graphene": {"defects": [defect]},
        "bilayer": {"stackings": [stacking], "layers": [layers]},
        "heterostructure": {"phases": [phase], "regions": [region]},
        "slab": {"material": material, "miller": [int(c) for c in miller if c.isdigit()]},
    }
    if family == "reference":
        structures = [bulk_metal(metal), isolated_atom(metal)]
    elif family == "compound":
        structures = [compound(material)]
    elif family in hosts:
        entry = {"family": family, **hosts[family], **({"size": size} if size else {})}
        try:
            spec = CampaignSpec.model_validate(
                {"name": "build", "hosts": [entry], "adsorbates": [{"element": adsorbate or "Li"}]})
        except ValidationError as exc:
            raise AnodescreenError(validation_message(exc)) from None
        element = spec.adsorbates[0].element
        structures = []
        for host in expand_hosts(spec, element):
            structures.append(host.reference)
            if adsorbate or host.multilayer is not None:
                structures += [s for _, s in _complexes(host, element)]
    else:
        raise AnodescreenError(f"unknown family {family!r} (use sac, graphene, bilayer, heterostructure, "
                               "slab, reference, compound)", "family")
    if output.exists() and not output.is_dir():
        raise AnodescreenError(f"{output} is a file, not a folder", "output")
    output.mkdir(parents=True, exist_ok=True)
    table = Table(title=str(output))
    for name in ("label", "formula", "atoms", "strain", "min distance (Å)", "file"):
        table.add_column(name)
    for s in structures:
        stem = re.sub(r"[^A-Za-z0-9.+-]+", "_", s.properties["label"]).strip("_")
        s.to(filename=str(output / f"{stem}.vasp"), fmt="poscar")
        s.to(filename=str(output / f"{stem}.cif"))
        atoms = AseAtomsAdaptor.get_atoms(s)
        atoms.info["label"] = s.properties["label"]
        ase_write(output / f"{stem}.extxyz", atoms, format="extxyz")
        strain = s.properties.get("strain")
        table.add_row(s.properties["label"], s.composition.formula.replace(" ", ""), str(len(s)),
                      "-" if strain is None else f"{100 * strain:.2f} %", f"{min_distance(s):.3f}",
                      f"{stem}.vasp/.cif/.extxyz")
    out.print(table)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
