"""Export result rows to files other tools read, and import them into another store.

Formats, chosen by suffix:

* ``.json``: ``{"format": "anodescreen-results", "version": 1, "rows": [...]}``, every
  row complete; imports back without loss;
* ``.db``: an ASE SQLite database, one entry per row: the final structure, the row's
  scalars as key-value pairs (``db.select(kind="binding_energy", adsorbate="Li")``)
  and the complete row in ``data["anodescreen_row"]``; imports back without loss;
* ``.csv``: one flat line per row (value, definition, references, level of theory);
* ``.extxyz``: one frame per row, the scalars in the frame's info.

CSV and extxyz are for reading elsewhere; only JSON and ASE databases import.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from pathlib import Path

from maggma.core import Store
from pydantic import ValidationError

from anodescreen.db.queries import COLUMNS, build_filter, get_path
from anodescreen.db.schema import ResultRow
from anodescreen.db.stores import refuse_store_file
from anodescreen.db.writes import upsert_rows
from anodescreen.errors import AnodescreenError

FORMAT = "anodescreen-results"
VERSION = 1
SUFFIXES = {".json": "json", ".db": "ase-db", ".csv": "csv", ".extxyz": "extxyz", ".xyz": "extxyz"}
IMPORTABLE = ("json", "ase-db")
ROW_KEY = "anodescreen_row"
#: level-of-theory fields written as flat columns / key-value pairs
LOT_FIELDS = ("code", "code_version", "method", "vdw", "basis", "cutoff", "kpoints", "smearing")


def file_format(path: str | Path) -> str:
    """The export format named by ``path``'s suffix."""
    fmt = SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise AnodescreenError(f"{Path(path).name}: unknown format (use {', '.join(SUFFIXES)})", "path")
    return fmt


def flat(row: dict) -> dict:
    """The scalars of a stored row: the query columns, definition, references and level of theory."""
    lot = row["level_of_theory"]
    out = {name: get_path(row, path) for name, path in COLUMNS.items()}
    out |= {"count": row["adsorbate"].get("count", 1), "metal": row["host"].get("metal"),
            "definition": row["definition"], "lot_key": row["lot_key"],
            "reference_states": ";".join(f"{s['label']}={s['energy_per_atom']:.6f}" for s in row["reference_states"]),
            "campaigns": ";".join(row.get("campaigns", []))}
    out |= {f"lot_{name}": lot.get(name) for name in LOT_FIELDS}
    out["lot_spin_polarized"] = str(lot.get("spin_polarized"))
    return out


def export_rows(results: Store, path: str | Path, filters: dict | None = None,
                value_range: tuple[float | None, float | None] = (None, None), overwrite: bool = False) -> int:
    """Write the rows matching ``filters`` to ``path``; the number written.

    An existing file is never replaced unless ``overwrite`` is set.
    """
    path = Path(path)
    fmt = file_format(path)
    refuse_store_file(results, path)
    if path.exists() and not overwrite:
        raise AnodescreenError(f"{path} exists (pass overwrite / --force to replace it)", "path")
    docs = [{k: v for k, v in d.items() if k != "_id"} for d in results.query(build_filter(filters or {}, value_range))]
    docs.sort(key=lambda d: d["row_id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    if fmt == "json":
        path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "rows": docs}, indent=1, default=str))
    elif fmt == "csv":
        with path.open("w", newline="") as handle:
            lines = [flat(d) for d in docs]
            writer = csv.DictWriter(handle, fieldnames=list(lines[0]) if lines else list(COLUMNS))
            writer.writeheader()
            writer.writerows(lines)
    elif fmt == "extxyz":
        from ase.io import write

        write(path, [_atoms(d) for d in docs], format="extxyz")
    else:
        from ase.db import connect

        with connect(path, type="db") as db:
            db.metadata = {"format": FORMAT, "version": VERSION}  # also makes an empty export a database
            for d in docs:
                db.write(_atoms(d, info=False), key_value_pairs=key_values(d),
                         data={ROW_KEY: json.loads(json.dumps(d, default=str))})
    return len(docs)


def _atoms(doc: dict, info: bool = True):
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(Structure.from_dict(doc["structure"]))
    for key in list(atoms.arrays):  # pymatgen site properties become arrays; keep only geometry
        if key not in ("numbers", "positions"):
            del atoms.arrays[key]
    atoms.info = {k: v for k, v in flat(doc).items() if v is not None} if info else {}
    return atoms


def key_values(doc: dict) -> dict:
    """ASE-db key-value pairs: scalars ASE accepts as they are (it refuses strings that read as numbers)."""
    from ase.db.core import check

    pairs = {}
    for key, value in flat(doc).items():
        if value is None:
            continue
        try:
            check({key: value})
        except ValueError:
            continue
        pairs[key] = value
    return pairs


def read_rows(path: str | Path) -> list[ResultRow]:
    """Validated rows from a JSON export or an ASE database written by :func:`export_rows`."""
    path = Path(path)
    fmt = file_format(path)
    if fmt not in IMPORTABLE:
        raise AnodescreenError(f"{path.name}: {fmt} files are export-only; import a .json or .db export", "path")
    if not path.is_file():
        raise AnodescreenError(f"no such file {str(path)!r}", "path")
    if fmt == "json":
        try:
            payload = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AnodescreenError(f"{path.name} is not JSON ({str(exc).splitlines()[0]})", "path") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise AnodescreenError(f"{path.name} is not an anodescreen results export", "path")
        raw = payload.get("rows", [])
    else:
        from ase.db import connect

        if not _is_ase_db(path):  # ASE would add its tables to any other SQLite file, e.g. a store
            raise AnodescreenError(f"{path.name} is not an ASE database written by 'anodescreen export'", "path")
        try:
            raw = [entry.data.get(ROW_KEY) for entry in connect(path, type="db").select()]
        except Exception as exc:  # sqlite3 / ASE errors on a damaged database
            raise AnodescreenError(f"{path.name} is not an ASE database ({str(exc).splitlines()[0]})",
                                   "path") from None
    rows = []
    for i, doc in enumerate(raw):
        if not isinstance(doc, dict):
            raise AnodescreenError(f"{path.name}: entry {i + 1} holds no anodescreen row", "path")
        try:
            rows.append(ResultRow.model_validate(doc))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise AnodescreenError(f"{path.name}: row {i + 1}: {where}: {err['msg']}", "path") from None
    return rows


def _is_ase_db(path: Path) -> bool:
    """Whether ``path`` is an SQLite file holding ASE's tables, checked without writing to it."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError:
        return False
    return {"systems", "information"} <= tables


def import_rows(results: Store, path: str | Path) -> tuple[int, int, int]:
    """Add the rows of an export to ``results``; (new, unchanged, updated).

    Every row is validated before anything is written, so a bad file changes nothing;
    rows already stored (same ``row_id``) are never duplicated.
    """
    return upsert_rows(results, read_rows(path))
