"""FireWorks on a file-backed mongomock LaunchPad, Slurm/PBS scripts, and what never leaks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import tiny_spec

from anodescreen.db.stores import ConfiguredJobStore, StoreConfig, open_stores
from anodescreen.errors import AnodescreenError
from anodescreen.launchers.fireworks import (
    LaunchpadConfig,
    fireworks_states,
    load_launchpad,
    submit_fireworks,
)
from anodescreen.launchers.local import run_campaign
from anodescreen.launchers.queues import QueueConfig, load_queue, render_script
from anodescreen.launchers.flow import campaign_flow
from anodescreen.workflows.spec import CampaignSpec

ROOT = Path(__file__).resolve().parents[2]
SPEC = tiny_spec("fw_tiny")


@pytest.fixture
def launchpad(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pad = load_launchpad(LaunchpadConfig(path=str(tmp_path / "launchpad.json")))
    pad.reset("", require_password=False)
    yield pad
    os.environ.pop("MONGOMOCK_SERVERSTORE_FILE", None)


def test_flow_has_one_job_per_missing_calculation_and_a_harvest(tmp_path):
    stores = open_stores(StoreConfig(path=str(tmp_path / "a.db")))
    flow = campaign_flow(CampaignSpec.model_validate(SPEC), stores)
    names = [j.name for j in flow.jobs]
    assert len(names) == 5 + 1 and names[-1] == "harvest_fw_tiny_compute"  # Li-bcc, G(2x2), 3 sites
    assert {"relax-cell_Li-bcc", "relax_G_2x2_"} <= set(names)  # shell-safe words
    # a funnel's first stage is the screening; its DFT stage is added when the screens are done
    funnel = {**SPEC, "engine": {"name": "cp2k"}, "funnel": {"screen": ["CHGNet"]}}
    first = campaign_flow(CampaignSpec.model_validate(funnel), stores)
    assert first.jobs[-1].name == "harvest_fw_tiny_screen_CHGNet"
    assert all(j.function_args[1].name == "mlip" for j in first.jobs[:-1])
    stores.close()


@pytest.mark.slow
def test_followup_stage_is_added_at_run_time_and_matches_a_local_run(tmp_path, launchpad):
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    spec = CampaignSpec.model_validate({
        **SPEC, "name": "fw_neb", "calculations": ["binding_energy", "diffusion_barrier"],
        "neb": {"images": 1, "fmax": 0.2, "max_steps": 40}})
    stores = open_stores(StoreConfig(path=str(tmp_path / "fw.db")))
    assert submit_fireworks(spec, stores, launchpad) == (6, 5)  # first stage only
    rapidfire(launchpad, FWorker(), nlaunches=0)
    states = fireworks_states(launchpad)["fw_neb"]
    assert set(states) == {"COMPLETED"} and states["COMPLETED"] > 6 + 1  # + one NEB per hop + a stage job
    local = open_stores(StoreConfig(path=str(tmp_path / "local.db")))
    run_campaign(spec, local, root_dir=tmp_path / "local")
    rows = {}
    for name, store in (("fireworks", stores), ("local", local)):
        rows[name] = {d["row_id"]: d["value"] for d in store.results.query({}, properties=["row_id", "value"])}
    assert rows["fireworks"].keys() == rows["local"].keys()
    assert {d["kind"] for d in stores.results.query({}, properties=["kind"])} == {"binding_energy",
                                                                                "diffusion_barrier"}
    for row_id, value in rows["local"].items():
        assert rows["fireworks"][row_id] == pytest.approx(value, abs=1e-4)
    stores.close()
    local.close()


@pytest.mark.slow
def test_campaign_runs_through_fireworks_rapidfire_into_the_store(tmp_path, launchpad):
    from fireworks import FWorker
    from fireworks.core.rocket_launcher import rapidfire

    stores = open_stores(StoreConfig(path=str(tmp_path / "a.db")))
    spec = CampaignSpec.model_validate(SPEC)
    assert submit_fireworks(spec, stores, launchpad) == (6, 5)
    assert fireworks_states(launchpad) == {"fw_tiny": {"READY": 5, "WAITING": 1}}
    rapidfire(launchpad, FWorker(), nlaunches=0)
    assert fireworks_states(launchpad) == {"fw_tiny": {"COMPLETED": 6}}
    rows = list(stores.results.query({}, properties=["site", "value", "campaigns"]))
    assert sorted(r["site"] for r in rows) == ["bridge", "hollow", "top"]
    assert all(r["campaigns"] == ["fw_tiny"] for r in rows)
    # everything is stored now: a second submission is the harvest alone
    assert submit_fireworks(spec, stores, launchpad) == (1, 0)
    stores.close()


def test_no_password_reaches_the_launchpad(monkeypatch):
    monkeypatch.setenv("SECRET_PW", "hunter2")
    config = StoreConfig(type="mongodb", username="u", password_env="SECRET_PW")
    store = ConfiguredJobStore.__new__(ConfiguredJobStore)
    store.config = config
    text = json.dumps(store.as_dict())
    assert "SECRET_PW" in text and "hunter2" not in text


def test_in_memory_store_cannot_be_submitted(tmp_path, launchpad, memory_stores):
    with pytest.raises(AnodescreenError, match="in-memory store"):
        submit_fireworks(CampaignSpec.model_validate(SPEC), memory_stores, launchpad)


def test_shipped_queue_configs_render_slurm_and_pbs_scripts(tmp_path):
    slurm = render_script(load_queue(ROOT / "db_config" / "queue_slurm.yaml"), tmp_path)
    for line in ("#SBATCH --nodes=1", "#SBATCH --ntasks-per-node=32", "#SBATCH --time=24:00:00",
                 "#SBATCH --account=my_project", "#SBATCH --partition=standard", "#SBATCH --job-name=anodescreen",
                 "module load cp2k/2024.1", "export OMP_NUM_THREADS=1",
                 f"{sys.executable} -m anodescreen.cli.main worker --launchpad db_config/launchpad.yaml --launches 1",
                 f"cd {tmp_path}"):
        assert line in slurm.splitlines(), line
    assert "$${" not in slurm  # every unused template line is dropped
    pbs = render_script(load_queue(ROOT / "db_config" / "queue_pbs.yaml"), tmp_path)
    for line in ("#PBS -l nodes=1:ppn=24", "#PBS -l walltime=12:00:00", "#PBS -q workq", "#PBS -A my_project",
                 "#PBS -N anodescreen", "module load vasp/6.4.2"):
        assert line in pbs.splitlines(), line


@pytest.mark.parametrize(("field", "value"), [
    ("job_name", "x; rm -rf ~"), ("account", "$(curl evil)"), ("queue", "a b"), ("modules", ["cp2k`id`"]),
    ("environment", ["A=$(id)"]), ("environment", ["not a pair"]), ("walltime", "1 day"), ("launchpad", "lp.yaml;x"), ("python", "python3 -c 'x'"),
])
def test_unsafe_queue_values_are_rejected(tmp_path, field, value):
    path = tmp_path / "queue.yaml"
    path.write_text(json.dumps({"system": "slurm", field: value}))
    with pytest.raises(AnodescreenError, match=field) as info:
        load_queue(path)
    assert "\n" not in str(info.value)
    assert QueueConfig(system="pbs").walltime == "24:00:00"
