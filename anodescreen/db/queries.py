"""Query the results: whitelisted filters in, sorted rows or a DataFrame out.

Filters are field names from :data:`~anodescreen.db.schema.QUERY_FIELDS` with plain
string values; the Mongo filter is built here, so user input is never an operator.
"""

from __future__ import annotations

from ase.data import atomic_numbers
from maggma.core import Store

from anodescreen.db.schema import QUERY_FIELDS
from anodescreen.errors import AnodescreenError

#: Flat columns of the table view: name → stored path.
COLUMNS = {
    "host": "host.label",
    "family": "host.family",
    "metal": "host.metal",
    "adsorbate": "adsorbate.element",
    "site": "site",
    "final_site": "final_site",
    "kind": "kind",
    "reference": "reference",
    "value": "value",
    "unit": "unit",
    "method": "level_of_theory.method",
    "engine": "level_of_theory.engine",
    "is_dft": "is_dft",
    "single_point": "single_point",
    "interlayer": "details.interlayer_distances",
    "row_id": "row_id",
}


def build_filter(filters: dict[str, object], value_range: tuple[float | None, float | None] = (None, None)) -> dict:
    """Mongo filter from whitelisted ``field: value`` pairs and an optional value range."""
    query: dict = {}
    for name, value in filters.items():
        if value is None:
            continue
        if name not in QUERY_FIELDS:
            raise AnodescreenError(f"cannot filter on {name!r} (use {', '.join(QUERY_FIELDS)})", "filter")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) != (name in BOOL_FIELDS):
            kind = "true or false" if name in BOOL_FIELDS else "a plain string or number"
            raise AnodescreenError(f"value of {name!r} must be {kind}", "filter")
        if isinstance(value, str) and value.startswith("$"):
            raise AnodescreenError(f"value of {name!r} may not start with '$'", "filter")
        if name in ELEMENT_FIELDS:
            value = _element(value, name)
        query[QUERY_FIELDS[name]] = value
    low, high = value_range
    if low is not None or high is not None:
        query["value"] = {k: float(v) for k, v in (("$gte", low), ("$lte", high)) if v is not None}
    return query


#: filter fields that hold true or false
BOOL_FIELDS = ("is_dft", "single_point")

#: filter fields that hold an element symbol: given in any case ("fe"), matched as the symbol ("Fe")
ELEMENT_FIELDS = ("metal", "adsorbate")


def _element(value: object, name: str) -> str:
    symbol = str(value).strip().capitalize()
    if symbol not in atomic_numbers or symbol == "X":
        raise AnodescreenError(f"{name} {value!r} is not a chemical element", name)
    return symbol


def get_path(doc: dict, path: str):
    """The value at a dotted ``path`` of a nested document, or None."""
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def query_rows(
    results: Store,
    filters: dict[str, object] | None = None,
    value_range: tuple[float | None, float | None] = (None, None),
    best: bool = False,
    limit: int | None = None,
    sort: str = "value",
    descending: bool = False,
    group: tuple[str, ...] | None = None,
) -> list[dict]:
    """Rows as flat dicts, grouped by kind and reference, sorted by ``sort`` within each.

    ``group`` (column names) keeps only the most favourable (lowest-value) row of each
    group within a kind × reference × level of theory; ``best`` is ``group=("host",
    "adsorbate")``: the best site per host × adsorbate. Ties are broken by host, site and
    row id so the order is stable.
    """
    group = ("host", "adsorbate") if best and group is None else group
    for name in (sort, *(group or ())):
        if name not in COLUMNS:
            raise AnodescreenError(f"unknown column {name!r} (use {', '.join(COLUMNS)})", "column")
    fields = [*COLUMNS.values(), "lot_key"]
    docs = results.query(build_filter(filters or {}, value_range), properties=fields)
    rows = [{name: get_path(d, path) for name, path in COLUMNS.items()} | {"lot_key": d["lot_key"]} for d in docs]
    rows.sort(key=lambda r: (r["value"], r["host"], r["site"] or "", r["row_id"]))
    if group:
        seen, kept = set(), []
        for r in rows:
            key = (r["kind"], r["reference"], r["lot_key"], *(r[g] for g in group))
            if key not in seen:
                seen.add(key)
                kept.append(r)
        rows = kept
    if sort != "value" or descending:
        rows.sort(key=lambda r: (r[sort] is None, r[sort]), reverse=descending)  # stable: ties keep value order
    rows.sort(key=lambda r: (r["kind"], r["reference"]))
    for r in rows:
        r.pop("lot_key")
    return rows[:limit] if limit else rows


def query_frame(results: Store, filters: dict[str, object] | None = None, **kwargs):
    """:func:`query_rows` as a pandas DataFrame (one column per :data:`COLUMNS` entry)."""
    import pandas as pd

    return pd.DataFrame(query_rows(results, filters, **kwargs), columns=list(COLUMNS))


def get_row(results: Store, row_id: str) -> dict:
    """The full stored row whose id starts with ``row_id``."""
    if not row_id or not all(c in "0123456789abcdef" for c in row_id):
        raise AnodescreenError(f"{row_id!r} is not a row id (hex digits)", "id")
    matches = [d for d in results.query({}, properties=["row_id"]) if d["row_id"].startswith(row_id)]
    if not matches:
        raise AnodescreenError(f"no row with id {row_id!r}", "id")
    if len(matches) > 1:
        raise AnodescreenError(f"id {row_id!r} matches {len(matches)} rows; give more digits", "id")
    doc = results.query_one({"row_id": matches[0]["row_id"]})
    doc.pop("_id", None)
    return doc


def stored_references(jobstore) -> list[dict]:
    """The reference registry: every successful reference calculation, one per label × level of theory."""
    found: dict[tuple[str, str], dict] = {}
    query = {"output.reference": True, "output.state": "successful"}
    fields = ["output.label", "output.energy", "output.n_sites", "output.lot_key", "output.calc_key",
              "output.level_of_theory", "output.completed_at"]
    for doc in jobstore.query(query, properties=fields):
        out = doc["output"]
        lot = out["level_of_theory"]
        found.setdefault((out["label"], out["lot_key"]), {
            "label": out["label"], "energy_per_atom": out["energy"] / out["n_sites"], "lot_key": out["lot_key"],
            "engine": lot["engine"], "method": lot["method"], "vdw": lot.get("vdw"), "calc_key": out["calc_key"]})
    return sorted(found.values(), key=lambda r: (r["label"], r["engine"], r["lot_key"]))
