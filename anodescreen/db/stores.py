"""Turn a ``db_config/*.yaml`` file into the jobflow JobStore and the results stores.

Three backends, one layout (collections ``jobs``, ``data``, ``results``, ``campaigns``):

* ``embedded`` (default): one SQLite file on disk (``./anodescreen.db``), indexed and
  safe for concurrent processes, no server needed (:mod:`anodescreen.db.sqlite_store`);
* ``mongodb``: a real MongoDB through maggma; the password is read from the environment
  variable named by ``password_env`` and never written anywhere;
* ``mongomock``: in memory (tests only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from jobflow import JobStore
from maggma.core import Store
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from anodescreen.db.sqlite_store import SQLiteStore
from anodescreen.errors import AnodescreenError, load_yaml

DEFAULT_PATH = "anodescreen.db"


class StoreConfig(BaseModel):
    """Contents of a store configuration file."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["embedded", "mongodb", "mongomock"] = "embedded"
    path: str = DEFAULT_PATH
    database: str = "anodescreen"
    host: str = "localhost"
    port: int = 27017
    username: str | None = None
    password_env: str | None = Field(None, description="environment variable holding the password")
    password_file: str | None = Field(None, description="file holding the password, outside the repository")
    uri_env: str | None = Field(None, description="environment variable holding a full mongodb[+srv]:// URI "
                                                  "(replaces host, port, username and password)")
    gridfs: bool = Field(True, description="large job data (trajectories, densities) in GridFS")
    timeout_ms: int = 5000


def load_store_config(source: str | Path | None) -> StoreConfig:
    """Read a store config file; ``None`` or ``"embedded"`` gives the embedded default."""
    if source is None or str(source) == "embedded":
        return StoreConfig()
    return read_config(Path(source), StoreConfig, "db_config")


def read_config(path: Path, model: type[BaseModel], field: str):
    """A YAML config file validated by ``model`` (stores, LaunchPads, queues); a problem is one line."""
    data = load_yaml(path, field)
    try:
        return model.model_validate(data or {})
    except (ValidationError, TypeError) as exc:
        raise AnodescreenError(f"{path}: {_first_error(exc)}", field) from None


def refuse_store_file(store: Store, path: str | Path) -> None:
    """Raise if ``path`` is ``store``'s own SQLite file: an output written there would destroy the results."""
    own = getattr(store, "path", None)  # the embedded store's file
    if own and Path(own).resolve() == Path(path).resolve():
        raise AnodescreenError(f"{path} is the store's own database file; write to another file", "path")


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(x) for x in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
    return str(exc).splitlines()[0]


class ConfiguredJobStore(JobStore):
    """A JobStore that serializes as its store config, never as connection details.

    jobflow stores the JobStore with each FireWorks task; this one is written as
    ``{"config": ...}`` (paths, host names, the *names* of password variables) and is
    rebuilt by :func:`open_stores` where the task runs, so no password reaches a LaunchPad.
    """

    config: StoreConfig | None = None

    def as_dict(self) -> dict:
        return {"@module": type(self).__module__, "@class": type(self).__name__,
                "config": self.config.model_dump() if self.config else None}

    @classmethod
    def from_dict(cls, d: dict) -> JobStore:
        return open_stores(StoreConfig.model_validate(d["config"])).jobstore


@dataclass
class Stores:
    """The stores of one database, connected."""

    config: StoreConfig
    jobstore: JobStore
    results: Store
    campaigns: Store

    def close(self) -> None:
        for store in (self.jobstore, self.results, self.campaigns):
            store.close()


_MEMORY: dict[str, Store] = {}
#: Stored result fields with an index (all scalars: see anodescreen.db.sqlite_store).
INDEXED = ("row_id", "kind", "reference", "host.label", "host.family", "host.metal", "adsorbate.element",
           "site", "lot_key", "level_of_theory.engine", "value")
#: Job fields looked up on every run: a calculation by its key, a job by its uuid.
JOB_INDEXED = ("uuid", "output.calc_key", "output.reference")


def _store(config: StoreConfig, collection: str) -> Store:
    if config.type == "embedded":
        return SQLiteStore(config.path, collection)
    if config.type == "mongomock":
        from maggma.stores import MemoryStore

        # one shared in-memory store per collection and database within a process
        return _MEMORY.setdefault(f"{config.database}.{collection}", MemoryStore(collection))
    from maggma.stores import GridFSStore, MongoStore, MongoURIStore
    from maggma.stores.gridfs import GridFSURIStore

    client = {"serverSelectionTimeoutMS": config.timeout_ms}
    large = collection == "data" and config.gridfs
    if config.uri_env:
        uri = os.environ.get(config.uri_env)
        if not uri:
            raise AnodescreenError(f"environment variable {config.uri_env} is not set", "uri_env")
        cls = GridFSURIStore if large else MongoURIStore
        return cls(uri, collection, database=config.database, mongoclient_kwargs=client)
    cls = GridFSStore if large else MongoStore
    return cls(config.database, collection, host=config.host, port=config.port, username=config.username or "",
               password=password(config), mongoclient_kwargs=client)


def password(config) -> str:
    """The MongoDB password of a store or LaunchPad config, from the environment or a file; never the config."""
    if config.password_env:
        password = os.environ.get(config.password_env, "")
        if not password:
            raise AnodescreenError(f"environment variable {config.password_env} is not set", "password_env")
        return password
    if config.password_file:
        path = Path(config.password_file).expanduser()
        if not path.is_file():
            raise AnodescreenError(f"password file {str(path)!r} does not exist", "password_file")
        return path.read_text().strip()
    return ""


def open_stores(config: StoreConfig | str | Path | None = None) -> Stores:
    """Connect the stores named by ``config`` (a StoreConfig, file path, or None)."""
    if not isinstance(config, StoreConfig):
        config = load_store_config(config)
    if config.type == "embedded":
        # absolute, because jobflow runs jobs from inside their run folder
        config = config.model_copy(update={"path": str(Path(config.path).resolve())})
        if Path(config.path).is_dir():
            raise AnodescreenError(f"{config.path} is a folder; the embedded store is one SQLite file", "path")
    try:
        jobstore = ConfiguredJobStore(_store(config, "jobs"), additional_stores={"data": _store(config, "data")})
        jobstore.config = config
        stores = Stores(config, jobstore, _store(config, "results"), _store(config, "campaigns"))
        jobstore.connect()
        stores.results.connect()
        stores.campaigns.connect()
        stores.results.count()  # a real round trip: fails now if the server is unreachable
        for field in INDEXED:
            stores.results.ensure_index(field, unique=field == "row_id")
        for field in JOB_INDEXED:
            stores.jobstore.docs_store.ensure_index(field)
    except AnodescreenError:
        raise
    except Exception as exc:  # any driver error means the store cannot be used
        where = config.path if config.type == "embedded" else f"{config.host}:{config.port}"
        msg = str(exc).splitlines()[0][:160]
        raise AnodescreenError(f"cannot open {config.type} store at {where} ({msg})", "store") from None
    return stores
