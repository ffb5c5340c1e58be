"""A benchmark's store: an embedded SQLite file, committed gzipped so later sessions reuse its DFT runs."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from anodescreen.db.stores import StoreConfig, open_stores


@contextmanager
def packed_stores(out: Path, name: str = "bench.db") -> Iterator:
    """Stores on ``out/name``, unpacked from ``out/name.gz`` when only that exists; packed again on exit
    (whatever finished is kept, even when the run stops early)."""
    db, packed = out / name, out / f"{name}.gz"
    out.mkdir(parents=True, exist_ok=True)
    if not db.exists() and packed.exists():
        with gzip.open(packed, "rb") as src, db.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    stores = open_stores(StoreConfig(type="embedded", path=str(db)))
    try:
        yield stores
    finally:
        stores.close()
        with db.open("rb") as src, gzip.open(packed, "wb") as dst:
            shutil.copyfileobj(src, dst)
