"""Write result rows: an upsert by ``row_id`` that never duplicates and never loses history."""

from __future__ import annotations

from maggma.core import Store

from anodescreen.db.schema import ResultRow


def upsert_rows(results: Store, rows: list[ResultRow]) -> tuple[int, int, int]:
    """Store ``rows``; (new, unchanged, updated).

    A row already stored with the same value, details and campaigns is left alone; otherwise the
    stored row is replaced, keeping its creation time and the union of campaigns.
    """
    existing = {d["row_id"]: d for d in results.query(
        {"row_id": {"$in": [r.row_id for r in rows]}},
        properties=["row_id", "value", "details", "campaigns", "created_at"])}
    counts = [0, 0, 0]
    to_write = []
    for row in rows:
        old = existing.get(row.row_id)
        doc = row.model_dump(mode="json")
        if old is None:
            counts[0] += 1
        elif (old["value"] == row.value and old.get("details", {}) == doc["details"]
              and set(row.campaigns) <= set(old.get("campaigns", []))):
            counts[1] += 1
            continue
        else:
            counts[2] += 1
            doc["created_at"] = old["created_at"]
            doc["campaigns"] = sorted({*old.get("campaigns", []), *row.campaigns})
        to_write.append(doc)
    if to_write:
        results.update(to_write, key="row_id")
    return counts[0], counts[1], counts[2]
