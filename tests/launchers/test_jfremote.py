"""jobflow-remote: a campaign submitted to a project, run by its runner, harvested into the store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import tiny_spec

from anodescreen.cli.main import app
from anodescreen.db.stores import StoreConfig, open_stores
from anodescreen.errors import AnodescreenError
from anodescreen.launchers.jfremote import (
    jobflow_remote_states,
    load_project,
    run_until_done,
    submit_jobflow_remote,
)
from anodescreen.workflows.spec import CampaignSpec

SPEC = tiny_spec("jfr_tiny", calculations=["binding_energy", "diffusion_barrier"],
                 neb={"images": 1, "fmax": 0.2, "max_steps": 40})


@pytest.fixture
def project(jfremote_project):
    return jfremote_project({"scheduler_type": "shell"})


@pytest.mark.slow
def test_campaign_runs_through_jobflow_remote_into_the_store(project, tmp_path):
    proj, stores = project
    spec = CampaignSpec.model_validate(SPEC)
    assert submit_jobflow_remote(spec, stores, proj, worker="cluster", harvest_worker="harvest") == (6, 5)
    assert jobflow_remote_states(proj) == {"jfr_tiny": {"READY": 5, "WAITING": 1}}
    jobs = list(proj.get_job_controller().jobs.find({}, {"job.name": 1, "worker": 1}))
    # names reach the batch scripts unquoted: "relax G(2x2)" would be a shell syntax error
    assert all(re.fullmatch(r"[A-Za-z0-9_.+/=:@%-]+", j["job"]["name"]) for j in jobs)
    assert sorted(j["worker"] for j in jobs) == ["cluster"] * 5 + ["harvest"]
    run_until_done(proj, max_seconds=900)
    # the NEB stage was added by the first stage job, its jobs sent to the same workers
    jobs = list(proj.get_job_controller().jobs.find({}, {"job.name": 1, "worker": 1, "state": 1}))
    assert len(jobs) > 6 + 1 and {j["state"] for j in jobs} == {"COMPLETED"}
    assert all(j["worker"] == ("harvest" if j["job"]["name"].startswith("harvest_") else "cluster") for j in jobs)
    assert [j["job"]["name"] for j in jobs if j["worker"] == "harvest"] == [
        "harvest_jfr_tiny_compute", "harvest_jfr_tiny_NEB_endpoints", "harvest_jfr_tiny_NEB_and_charges"]
    rows = list(stores.results.query({}, properties=["kind", "site", "campaigns"]))
    assert sorted(r["site"] for r in rows if r["kind"] == "binding_energy") == ["bridge", "hollow", "top"]
    assert any(r["kind"] == "diffusion_barrier" for r in rows)
    assert all(r["campaigns"] == ["jfr_tiny"] for r in rows)
    # the CLI: everything is stored, so a submission is the harvest alone; --wait runs it here
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump({**SPEC, "launcher": "jobflow-remote"}))  # chosen in the spec
    db = tmp_path / "db.yaml"
    db.write_text(yaml.safe_dump({"path": str(tmp_path / "a.db")}))
    result = CliRunner().invoke(app, ["submit", str(spec_file), "--project",
                                      "anodescreen", "--worker", "cluster", "--wait", "--db-config", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 jobs added" in result.output and "(0 calculations + harvest)" in result.output
    result = CliRunner().invoke(app, ["status", "--project", "anodescreen", "--db-config", str(db)])
    assert f"jobflow-remote jfr_tiny: COMPLETED {len(jobs) + 3}" in result.output, result.output


def test_project_must_write_to_the_campaign_store(project, tmp_path):
    proj, _ = project
    other = open_stores(StoreConfig(path=str(tmp_path / "other.db")))
    with pytest.raises(AnodescreenError, match="not to the campaign's store"):
        submit_jobflow_remote(CampaignSpec.model_validate(SPEC), other, proj)
    with pytest.raises(AnodescreenError, match="no worker 'gpu'"):
        submit_jobflow_remote(CampaignSpec.model_validate(SPEC), project[1], proj, worker="gpu")
    with pytest.raises(AnodescreenError, match="jobflow-remote project nothere"):
        load_project("nothere")
    other.close()


def test_project_template_is_a_valid_jobflow_remote_project():
    from jobflow_remote.config.base import Project

    text = (Path(__file__).resolve().parents[2] / "db_config" / "jobflow_remote.yaml").read_text()
    filled = re.sub(r'<"([^"]*)">', r"\1", text).replace("~", "/home/u")
    filled = re.sub(r"<([^>]*)>", lambda m: "x" if m.group(1) == "..." else m.group(1), filled)
    project = Project.model_validate(yaml.safe_load(filled))
    assert set(project.workers) == {"cluster", "harvest"} and project.workers["harvest"].type == "local"
    assert project.get_jobstore().additional_stores["data"].collection_name == "data"
