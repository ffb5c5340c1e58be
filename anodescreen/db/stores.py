"""Turn a ``db_config/*.yaml`` file into the jobflow JobStore and the results stores.

Three backends, one layout (collections ``jobs``, ``data``, ``results``, ``campaigns``):

* ``embedded`` (default): montydb on SQLite in a folder on disk (``./anodescreen.db``),
  no server needed;
* ``mongodb``: a real MongoDB through maggma; the password is read from the environment
  variable named by ``password_env`` and never written anywhere;
* ``mongomock``: in memory (tests only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from jobflow import JobStore
from maggma.core import Store
from pydantic import BaseModel, ConfigDict, ValidationError

from anodescreen.errors import AnodescreenError

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
    password_env: str | None = None
    timeout_ms: int = 5000


def load_store_config(source: str | Path | None) -> StoreConfig:
    """Read a store config file; ``None`` or ``"embedded"`` gives the embedded default."""
    if source is None or str(source) == "embedded":
        return StoreConfig()
    path = Path(source)
    if not path.is_file():
        raise AnodescreenError(f"no such file {str(path)!r}", "db_config")
    try:
        data = yaml.safe_load(path.read_text()) or {}
        return StoreConfig.model_validate(data)
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise AnodescreenError(f"{path}: {_first_error(exc)}", "db_config") from None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}"
    return str(exc).splitlines()[0]


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


def _store(config: StoreConfig, collection: str) -> Store:
    if config.type == "embedded":
        from maggma.stores import MontyStore

        return MontyStore(collection, database_path=str(Path(config.path)), database_name=config.database,
                          storage="sqlite")
    if config.type == "mongomock":
        from maggma.stores import MemoryStore

        # one shared in-memory store per collection and database within a process
        return _MEMORY.setdefault(f"{config.database}.{collection}", MemoryStore(collection))
    from maggma.stores import MongoStore

    password = os.environ.get(config.password_env, "") if config.password_env else ""
    if config.password_env and not password:
        raise AnodescreenError(f"environment variable {config.password_env} is not set", "password_env")
    return MongoStore(
        config.database, collection, host=config.host, port=config.port,
        username=config.username or "", password=password,
        mongoclient_kwargs={"serverSelectionTimeoutMS": config.timeout_ms},
    )


def open_stores(config: StoreConfig | str | Path | None = None) -> Stores:
    """Connect the stores named by ``config`` (a StoreConfig, file path, or None)."""
    if not isinstance(config, StoreConfig):
        config = load_store_config(config)
    if config.type == "embedded":
        # absolute, because jobflow runs jobs from inside their run folder
        config = config.model_copy(update={"path": str(Path(config.path).resolve())})
        Path(config.path).mkdir(parents=True, exist_ok=True)
    try:
        jobstore = JobStore(_store(config, "jobs"), additional_stores={"data": _store(config, "data")})
        stores = Stores(config, jobstore, _store(config, "results"), _store(config, "campaigns"))
        jobstore.connect()
        stores.results.connect()
        stores.campaigns.connect()
        stores.results.count()  # a real round trip: fails now if the server is unreachable
    except AnodescreenError:
        raise
    except Exception as exc:  # any driver error means the store cannot be used
        where = config.path if config.type == "embedded" else f"{config.host}:{config.port}"
        msg = str(exc).splitlines()[0][:160]
        raise AnodescreenError(f"cannot open {config.type} store at {where} ({msg})", "store") from None
    return stores
