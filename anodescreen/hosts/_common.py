"""Spec field types several host families share."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from anodescreen.structures.graphene import supercell_matrix


def _size(value: str) -> str:
    supercell_matrix(value)  # raises on a malformed size
    return value


#: a graphene supercell: "4x4", "r3xr3", "2x3"
Size = Annotated[str, AfterValidator(_size)]
