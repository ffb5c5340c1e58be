"""Run a campaign through FireWorks: one Firework per calculation, one per stage that harvests.

The campaign's jobflow Flow (:func:`~anodescreen.launchers.flow.campaign_flow`: the same
calculation jobs the local launcher runs, plus a stage job that harvests and adds the next
stage) is turned into a FireWorks Workflow with jobflow's ``flow_to_workflow`` and added
to a LaunchPad configured by a ``db_config/launchpad*.yaml`` file:

* ``type: mongodb``: the production LaunchPad (credentials from an environment variable,
  a file outside the repository, or a URI variable, as for the stores);
* ``type: mongomock``: FireWorks' file-backed mongomock mode (``mongomock-persistence``),
  for a single process and for tests; the file is written when the process exits.

Workers run ``rlaunch``/``qlaunch`` with the queue templates of :mod:`.queues`. Job
outputs go to the campaign's store, whose config (never a password) travels with the
workflow; the stage jobs open the same store on the worker. Funnel stages and NEB/charge
follow-ups are added to the running workflow as the stage before them finishes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from anodescreen.db.stores import Stores, read_config
from anodescreen.errors import AnodescreenError
from anodescreen.launchers.flow import campaign_flow
from anodescreen.workflows.spec import CampaignSpec


class LaunchpadConfig(BaseModel):
    """Contents of a LaunchPad configuration file."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["mongodb", "mongomock"] = "mongomock"
    path: str = Field("launchpad.json", description="mongomock: the file the LaunchPad persists to")
    name: str = "anodescreen_fireworks"
    host: str = "localhost"
    port: int = 27017
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    uri_env: str | None = None
    timeout_ms: int = 5000


def load_launchpad(source: str | Path | LaunchpadConfig):
    """A connected FireWorks LaunchPad from a config file (or a LaunchpadConfig); an empty one is initialised."""
    config = source if isinstance(source, LaunchpadConfig) else read_config(Path(source), LaunchpadConfig,
                                                                               "launchpad")
    launchpad = _connect(config)
    if launchpad.fw_id_assigner.count_documents({}) == 0 and launchpad.workflows.count_documents({}) == 0:
        launchpad.reset("", require_password=False)  # a new LaunchPad: what 'lpad reset' does
    return launchpad


def _connect(config: LaunchpadConfig):
    if config.type == "mongomock":
        path = Path(config.path).resolve()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
        os.environ["MONGOMOCK_SERVERSTORE_FILE"] = str(path)
        import mongomock_persistence
        from fireworks.core import launchpad as module

        module.MongoClient = mongomock_persistence.MongoClient  # FireWorks' own mongomock mode
        return module.LaunchPad(host="localhost", name=config.name)
    from fireworks import LaunchPad

    from anodescreen.db.stores import password

    client = {"serverSelectionTimeoutMS": config.timeout_ms}
    if config.uri_env:
        uri = os.environ.get(config.uri_env)
        if not uri:
            raise AnodescreenError(f"environment variable {config.uri_env} is not set", "uri_env")
        return LaunchPad(host=uri, name=config.name, uri_mode=True, mongoclient_kwargs=client)
    return LaunchPad(host=config.host, port=config.port, name=config.name, username=config.username,
                     password=password(config) or None, mongoclient_kwargs=client)


def persist(launchpad) -> None:
    """Write a mongomock LaunchPad to its file now, and not again when this process exits.

    A batch job started by this process reads the file and writes it back when it ends;
    without this, whichever process exits last would overwrite the other's changes.
    """
    server = getattr(launchpad.connection, "_store", None)
    if server is not None and getattr(server, "_filename", None):
        server._to_file()
        server._finalizer.detach()


def submit_fireworks(spec: CampaignSpec, stores: Stores, launchpad, retry_failed: bool = False) -> tuple[int, int]:
    """Add the campaign's workflow to ``launchpad``; (number of Fireworks, calculations among them)."""
    from jobflow.managers.fireworks import flow_to_workflow

    flow = campaign_flow(spec, stores, retry_failed)
    workflow = flow_to_workflow(flow, store=stores.jobstore, name=spec.name,
                                metadata={"anodescreen_campaign": spec.name})
    launchpad.add_wf(workflow)
    return len(workflow.fws), len(workflow.fws) - 1


def fireworks_states(launchpad, campaign: str | None = None) -> dict[str, dict[str, int]]:
    """Firework states per campaign: {campaign: {state: count}}."""
    query = {"metadata.anodescreen_campaign": campaign} if campaign else {"metadata.anodescreen_campaign":
                                                                          {"$exists": True}}
    states: dict[str, dict[str, int]] = {}
    for wf in launchpad.workflows.find(query, {"metadata": 1, "fw_states": 1}):
        counts = states.setdefault(wf["metadata"]["anodescreen_campaign"], {})
        for state in wf["fw_states"].values():
            counts[state] = counts.get(state, 0) + 1
    return states
