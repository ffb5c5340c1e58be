"""A real single-node Slurm (Debian slurm-wlm, started here as root) receives a campaign
through FireWorks' queue launcher; the batch job runs the worker and the rows land in the store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import tiny_yaml

from anodescreen.db.stores import StoreConfig, open_stores

HERE = Path(__file__).resolve().parent
SPEC = tiny_yaml("slurm_tiny")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if shutil.which("slurmctld") is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("slurm-wlm is not installed or not root (make system)")
        pytest.skip("needs root and Debian's slurm-wlm + munge (make system)")
    folder = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([str(HERE / "slurm" / "start.sh"), str(folder)], capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 0, started.stderr
    env = {**os.environ, "SLURM_CONF": started.stdout.strip()}
    yield env
    subprocess.run(["scontrol", "shutdown"], env=env, timeout=60)


def _cli(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "anodescreen.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_campaign_through_qlaunch_on_real_slurm(slurm, tmp_path):
    env = {**slurm, "PATH": f"{Path(sys.executable).parent}:{slurm['PATH']}"}
    env.pop("ANODESCREEN_DEBUG", None)
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "store.yaml").write_text(f"type: embedded\npath: {tmp_path / 'results.db'}\n")
    (tmp_path / "launchpad.yaml").write_text(f"type: mongomock\npath: {tmp_path / 'launchpad.json'}\n")
    (tmp_path / "queue.yaml").write_text(json.dumps({
        "system": "slurm", "job_name": "anodescreen-test", "nodes": 1, "tasks_per_node": 1, "cpus_per_task": 2,
        "walltime": "00:20:00", "launchpad": str(tmp_path / "launchpad.yaml"), "launches": 0,
        "environment": ["OMP_NUM_THREADS=2"]}))
    submitted = _cli("submit", "spec.yaml", "--launchpad", "launchpad.yaml", "--queue", "queue.yaml",
                     "--db-config", "store.yaml", cwd=tmp_path, env=env)
    assert submitted.returncode == 0, submitted.stderr
    assert "6 Fireworks added" in submitted.stdout and "1 slurm job(s) submitted" in submitted.stdout
    scripts = list(tmp_path.rglob("FW_submit.script"))
    assert len(scripts) == 1 and "#SBATCH --job-name=anodescreen-test" in scripts[0].read_text()

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        queue = subprocess.run(["squeue", "-h", "-n", "anodescreen-test"], env=env, capture_output=True, text=True)
        if not queue.stdout.strip():
            break
        time.sleep(3)
    else:
        pytest.fail("the Slurm job did not finish in 10 minutes")
    stores = open_stores(StoreConfig(path=str(tmp_path / "results.db")))
    sites = sorted(d["site"] for d in stores.results.query({"campaigns": "slurm_tiny"}, properties=["site"]))
    stores.close()
    logs = "".join(p.read_text() for p in tmp_path.rglob("*.error"))
    assert sites == ["bridge", "hollow", "top"], logs[-3000:]
    status = _cli("status", "--launchpad", "launchpad.yaml", "--db-config", "store.yaml", cwd=tmp_path, env=env)
    assert "fireworks slurm_tiny: COMPLETED 6" in status.stdout, status.stderr


@pytest.mark.slow
def test_campaign_through_jobflow_remote_on_real_slurm(slurm, jfremote_project, monkeypatch):
    """jobflow-remote's runner submits the calculations to Slurm (qtoolkit, sbatch); outputs reach the store."""
    from anodescreen.launchers.jfremote import jobflow_remote_states, run_until_done, submit_jobflow_remote
    from anodescreen.workflows.spec import CampaignSpec

    monkeypatch.setenv("SLURM_CONF", slurm["SLURM_CONF"])
    project, stores = jfremote_project({"scheduler_type": "slurm", "resources": {
        "nodes": 1, "ntasks": 1, "cpus_per_task": 2, "time": "00:20:00", "job_name": "jfr"}})
    spec = CampaignSpec.model_validate({**yaml.safe_load(SPEC), "name": "jfr_slurm"})
    assert submit_jobflow_remote(spec, stores, project, worker="cluster", harvest_worker="harvest") == (6, 5)
    run_until_done(project, max_seconds=900)
    assert jobflow_remote_states(project) == {"jfr_slurm": {"COMPLETED": 6}}
    scripts = list(Path(project.workers["cluster"].work_dir).rglob("submit.sh"))
    assert len(scripts) == 5 and all("#SBATCH" in s.read_text() for s in scripts)
    sites = sorted(d["site"] for d in stores.results.query({"campaigns": "jfr_slurm"}, properties=["site"]))
    assert sites == ["bridge", "hollow", "top"]
