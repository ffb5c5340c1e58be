"""Cluster commands: submit (FireWorks, Slurm/PBS, jobflow-remote) and worker (what a batch job runs)."""

from __future__ import annotations

from pathlib import Path

import typer

from anodescreen.errors import AnodescreenError
from anodescreen.cli.common import DbConfig, app, one_line_errors, open_store, out, print_states, quiet_libraries


@app.command()
@one_line_errors
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

    quiet_libraries()
    campaign = load_spec(spec)
    launcher = launcher or (campaign.launcher if campaign.launcher != "local" else "fireworks")
    if launcher not in ("fireworks", "jobflow-remote"):
        raise AnodescreenError(f"unknown launcher {launcher!r} (fireworks or jobflow-remote)", "launcher")
    if launcher == "jobflow-remote":
        _submit_jobflow_remote(campaign, open_store(db_config, campaign.store), project, worker, harvest_worker, wait,
                               retry_failed)
        return
    from anodescreen.launchers.fireworks import load_launchpad, persist, submit_fireworks

    queue_config = None
    if queue is not None:
        from anodescreen.launchers.queues import load_queue

        queue_config = load_queue(queue)  # checked before anything is added
    stores = open_store(db_config, campaign.store)
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
            print_states("jobflow-remote", jobflow_remote_states(proj, campaign.name))
    finally:
        stores.close()

@app.command()
@one_line_errors
def worker(
    launchpad: Path = typer.Option(Path("db_config/launchpad.yaml"), help="LaunchPad config"),
    launches: int = typer.Option(0, min=0, help="Fireworks to run before stopping (0: until none is ready)"),
) -> None:
    """Run ready Fireworks here (what a batch job's script calls)."""
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    from anodescreen.launchers.fireworks import load_launchpad

    quiet_libraries()
    rapidfire(load_launchpad(launchpad), FWorker(), nlaunches=launches)
