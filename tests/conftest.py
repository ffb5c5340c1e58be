"""Shared fixtures: store configs and the location of ../shared/fixtures."""

from __future__ import annotations

import itertools
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
