"""Stored calculations: the latest record of each calc_key in the JobStore."""

from __future__ import annotations

from anodescreen.db.schema import CalcDoc
from anodescreen.db.stores import Stores


def stored_calcs(stores: Stores, keys: list[str]) -> dict[str, tuple[CalcDoc, str]]:
    """Latest stored record (and job uuid) of each calc_key; successful ones win."""
    found: dict[str, tuple[CalcDoc, str]] = {}
    cursor = stores.jobstore.query({"output.calc_key": {"$in": list(keys)}}, properties=["output", "uuid"])
    for doc in cursor:
        calc = calc_doc(doc["output"])
        previous = found.get(calc.calc_key)
        better = previous is None or (previous[0].state != "successful" and calc.state == "successful")
        if better or (previous[0].state == calc.state and calc.completed_at > previous[0].completed_at):
            found[calc.calc_key] = (calc, doc["uuid"])
    return found


def calc_doc(output: CalcDoc | dict) -> CalcDoc:
    """A calculation job's output as stored or as jobflow resolves it (the CalcDoc or its dict)."""
    if isinstance(output, CalcDoc):
        return output
    out = {k: v for k, v in output.items() if not k.startswith("@")}
    out.pop("energies", None)  # lives in the data store; not needed for rows
    return CalcDoc.model_validate(out)
