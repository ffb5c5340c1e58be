"""Campaign commands: run (resumable, here), rerun (failed calculations), status."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from anodescreen.cli.common import DbConfig, app, err, one_line_errors, open_store, out, print_states, quiet_libraries


@app.command()
@one_line_errors
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

    quiet_libraries()
    campaign = load_spec(spec)
    stores = open_store(db_config, campaign.store)
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
        for line in h.notes:
            out.print(f"  {line}", highlight=False)
    for d in result.funnel:
        out.print(f"funnel {d.host} {d.region} {d.element}: {d.summary()}", highlight=False)
        for line in d.dft_flags():
            out.print(f"  {line}", highlight=False)
    stores.close()

@app.command()
@one_line_errors
def rerun(
    spec: Path = typer.Argument(..., help="campaign YAML file"),
    failed: bool = typer.Option(True, "--failed/--no-failed", help="recompute the calculations stored as failed"),
    db_config: Path | None = DbConfig,
    workers: int = typer.Option(1, min=1),
) -> None:
    """Run a campaign again, recomputing its failed calculations (each engine applies its retry policy)."""
    run(spec=spec, db_config=db_config, retry_failed=failed, workers=workers)

@app.command()
@one_line_errors
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
        print_states(launcher, states)
    from anodescreen.workflows.funnel import GroupDecision

    stores = open_store(db_config)
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
            out.print(f"funnel {doc['name']} {d.host} {d.region} {d.element}: {d.summary()}"
                      + (f"; {'; '.join(notes)}" if notes else ""), highlight=False)
    stores.close()
