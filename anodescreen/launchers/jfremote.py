"""Run a campaign through jobflow-remote: for clusters whose compute nodes cannot reach the database.

The flow is the one FireWorks runs (:func:`~anodescreen.launchers.flow.campaign_flow`):
one job per calculation not yet stored and a stage job that harvests and adds the next
stage. jobflow-remote's runner, on a machine that reaches the database, submits the calculation jobs to the cluster worker
(over SSH or locally, Slurm/PBS through qtoolkit), copies inputs and outputs, and writes
the outputs to the project's JobStore, which must be the campaign's store. The stage
jobs open that store, so they run on a worker on the runner's side (``harvest_worker``,
usually ``type: local``); compute nodes never touch the database.

What jobflow-remote needs: a project file (template: ``db_config/jobflow_remote.yaml``)
in ``~/.jfremote/`` (or ``$JFREMOTE_PROJECTS_FOLDER``), a MongoDB for its queue, SSH
access to the cluster, and anodescreen installed on the cluster. Without MongoDB the
queue can live in this process's memory (:class:`ProcessQueueStore`): the runner then
has to run in the submitting process (``anodescreen submit --launcher jobflow-remote
--wait``) and the queue is lost when it ends (stored results are not).
"""

from __future__ import annotations

from pathlib import Path

from maggma.stores import MemoryStore

from anodescreen.db.stores import Stores
from anodescreen.errors import AnodescreenError
from anodescreen.launchers.flow import campaign_flow
from anodescreen.workflows.spec import CampaignSpec

_CLIENT = None


class ProcessQueueStore(MemoryStore):
    """A jobflow-remote queue store in this process's memory, shared by every instance.

    jobflow-remote's submitter and runner each build their own queue store from the
    project file; a plain MemoryStore would give each an empty database.
    """

    def __init__(self, collection_name: str = "jobs", database: str = "jobflow_remote", **kwargs):
        self.database = database
        super().__init__(collection_name, **kwargs)

    def connect(self, force_reset: bool = False) -> None:
        global _CLIENT
        if _CLIENT is None or force_reset:
            import mongomock_ng

            _CLIENT = mongomock_ng.MongoClient()
        if self._coll is None or force_reset:
            self._coll = _CLIENT[self.database][self.collection_name]

    def close(self) -> None:
        """Nothing to close: the queue lives as long as the process."""


def load_project(name: str | None = None):
    """The jobflow-remote project ``name`` (default: jobflow-remote's default); its queue initialised if empty."""
    try:
        from jobflow_remote.config import ConfigManager
    except ImportError:
        raise AnodescreenError("jobflow-remote is not installed (pip install jobflow-remote)", "launcher") from None
    try:
        project = ConfigManager().get_project(name)
    except Exception as exc:  # jobflow-remote raises ConfigError or pydantic errors here
        raise AnodescreenError(f"jobflow-remote project {name or '(default)'}: {str(exc).splitlines()[0]}",
                               "project") from None
    controller = project.get_job_controller()
    if controller.auxiliary.count_documents({}) == 0 and controller.jobs.count_documents({}) == 0:
        controller.reset()  # a new queue database: what 'jf admin reset' does
    controller.close()
    return project


def _project(project):
    """A loaded project as given, or the one named (None: jobflow-remote's default)."""
    return project if project is not None and not isinstance(project, str) else load_project(project)


def submit_jobflow_remote(spec: CampaignSpec, stores: Stores, project=None, worker: str | None = None,
                          harvest_worker: str | None = None, retry_failed: bool = False) -> tuple[int, int]:
    """Add the campaign's flow to a jobflow-remote project; (number of jobs, calculations among them).

    ``worker`` runs the calculations (default: the project's first worker); ``harvest_worker``
    runs the stage jobs, which open the store (default: ``worker``).
    """
    from jobflow_remote import submit_flow

    project = _project(project)
    worker = worker or next(iter(project.workers), None)
    harvest_worker = harvest_worker or worker
    for name in (worker, harvest_worker):
        if name not in project.workers:
            raise AnodescreenError(f"project {project.name} has no worker {name!r} (has: "
                                   f"{', '.join(project.workers) or 'none'})", "worker")
    jobstore = project.get_jobstore()
    if jobstore is None or jobstore.docs_store.name != stores.jobstore.docs_store.name:
        where = jobstore.docs_store.name if jobstore is not None else "none"
        raise AnodescreenError(f"project {project.name} writes outputs to {where}, not to the campaign's store "
                               f"{stores.jobstore.docs_store.name}: set its jobstore to the same database",
                               "jobstore")
    manager = {"calc": {"worker": worker}, "stage": {"worker": harvest_worker}}
    ids = submit_flow(campaign_flow(spec, stores, retry_failed, manager), worker=worker, project=project.name)
    return len(ids), len(ids) - 1


def run_until_done(project, max_seconds: float | None = None) -> None:
    """Run the jobflow-remote runner in this process until no job of ``project`` is left to run."""
    from jobflow_remote.jobs.runner import Runner

    runner = Runner(project_name=project.name)
    try:
        runner.run_all_jobs(max_seconds=max_seconds)
    finally:
        runner.cleanup()


def jobflow_remote_states(project, campaign: str | None = None) -> dict[str, dict[str, int]]:
    """Job states per campaign in a jobflow-remote project: {campaign: {state: count}}."""
    controller = _project(project).get_job_controller()
    query = {"metadata.anodescreen_campaign": campaign or {"$exists": True}}
    states: dict[str, dict[str, int]] = {}
    try:
        for flow in controller.flows.find(query, {"metadata": 1, "jobs": 1}):
            counts = states.setdefault(flow["metadata"]["anodescreen_campaign"], {})
            for doc in controller.jobs.find({"uuid": {"$in": flow["jobs"]}}, {"state": 1}):
                counts[doc["state"]] = counts.get(doc["state"], 0) + 1
    finally:
        controller.close()
    return states


def write_project(path: Path, name: str, stores: Stores, workers: dict, queue_store: dict | None = None,
                  **fields) -> Path:
    """Write a jobflow-remote project file whose JobStore is the campaign's store.

    ``queue_store`` defaults to :class:`ProcessQueueStore`; give a MongoStore dict for a
    persistent queue. ``workers`` are jobflow-remote worker configs; ``fields`` other
    project fields (e.g. ``runner`` options).
    """
    import yaml
    from jobflow import JobStore

    store = stores.jobstore
    jobstore = JobStore(store.docs_store, additional_stores=store.additional_stores).as_dict()
    queue = queue_store or ProcessQueueStore("jobs", database=str(path)).as_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"name": name, "workers": workers, "queue": {"store": queue},
                                    "jobstore": jobstore, **fields}, sort_keys=False))
    return path
