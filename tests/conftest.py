"""Shared fixtures: store configs and the location of ../shared/fixtures."""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
from pathlib import Path

import pytest

from anodescreen.db.stores import StoreConfig, open_stores

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
_counter = itertools.count()


@pytest.fixture
def memory_stores():
    """Fresh mongomock-backed stores (a new database name per test)."""
    stores = open_stores(StoreConfig(type="mongomock", database=f"test{next(_counter)}"))
    yield stores
    stores.close()


@pytest.fixture
def shared_fixtures() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/fixtures is absent (a plain clone has no shared folder)")
    return SHARED


#: the smallest real campaign: Li on 2×2 graphene, CHGNet, the bulk reference (3 sites, 5 calculations)
TINY = {"hosts": [{"family": "graphene", "size": "2x2"}], "adsorbates": [{"element": "Li"}], "references": ["bulk"],
        "engine": {"name": "mlip", "fmax": 0.1}}


def tiny_spec(name: str, **fields) -> dict:
    """The tiny campaign named ``name``, with ``fields`` added or replaced."""
    return {"name": name, **TINY, **fields}


def tiny_yaml(name: str, **fields) -> str:
    """The tiny campaign as a spec file's text."""
    import yaml

    return yaml.safe_dump(tiny_spec(name, **fields), sort_keys=False)


#: cheap CP2K numerics: every test cell finishes in well under a minute on 2 cores
CHEAP = {"cutoff": 200.0, "rel_cutoff": 30.0, "fmax": 0.1, "max_steps": 40}


@pytest.fixture(scope="session")
def cp2k():
    if shutil.which("cp2k.psmp") is None:
        if os.environ.get("CI"):
            pytest.fail("cp2k.psmp is not installed (make system)")
        pytest.skip("cp2k.psmp is not installed (make system)")


@pytest.fixture(scope="session")
def gpaw():
    if importlib.util.find_spec("_gpaw") is None:
        if os.environ.get("CI"):
            pytest.fail("GPAW is not built (make install-gpaw)")
        pytest.skip("GPAW is not built (make install-gpaw)")


@pytest.fixture
def jfremote_project(tmp_path, monkeypatch):
    """Make a jobflow-remote project writing to an embedded store in tmp_path: (project, stores).

    Call it with the calculation worker's config; a local shell worker 'harvest' is added.
    """
    import sys

    import jobflow_remote

    from anodescreen.launchers.jfremote import load_project, write_project

    monkeypatch.setattr(jobflow_remote.SETTINGS, "projects_folder", str(tmp_path / "projects"))
    stores = open_stores(StoreConfig(path=str(tmp_path / "a.db")))
    path = f"export PATH={Path(sys.executable).parent}:$PATH"

    def make(cluster: dict):
        workers = {"cluster": {"type": "local", "pre_run": path, "work_dir": str(tmp_path / "cluster"), **cluster},
                   "harvest": {"type": "local", "scheduler_type": "shell", "pre_run": path,
                               "work_dir": str(tmp_path / "harvest")}}
        runner = {"delay_checkout": 1, "delay_check_run_status": 1, "delay_advance_status": 1}
        write_project(tmp_path / "projects" / "anodescreen.yaml", "anodescreen", stores, workers, runner=runner)
        return load_project("anodescreen"), stores

    yield make
    stores.close()
