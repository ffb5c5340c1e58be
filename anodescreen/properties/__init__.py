"""Computed properties, one module each, registered in :data:`PROPERTIES`.

The spec's ``calculations``, the planning of every stage, the harvest of rows, the row
kinds (unit, definition) and the report's sections are generated from this registry; a
new property is one module (a :class:`~anodescreen.core.property.Property` with its
:class:`~anodescreen.core.property.RowKind`) and one line here.
"""

from __future__ import annotations

from anodescreen.core.property import Property, RowKind, TaskRunner
from anodescreen.db.report import Section
from anodescreen.properties import (
    adsorption_height,
    bader_charge,
    binding_energy,
    diffusion_barrier,
    formation_energy,
    intercalation_energy,
    sac_distortion,
)

PROPERTIES: dict[str, Property] = {p.name: p for p in (
    binding_energy.PROPERTY,
    intercalation_energy.PROPERTY,
    formation_energy.PROPERTY,
    diffusion_barrier.PROPERTY,
    bader_charge.PROPERTY,
    sac_distortion.PROPERTY,
    adsorption_height.PROPERTY,
)}

#: every row kind, by name
KINDS: dict[str, RowKind] = {kind.name: kind for p in PROPERTIES.values() for kind in p.rows}
#: engine tasks the properties add (``neb``, ``charges``)
TASKS: dict[str, TaskRunner] = {task: run for p in PROPERTIES.values() for task, run in p.tasks.items()}
#: row kinds that take the alkali's chemical potential (binding, intercalation)
ALKALI_KINDS = tuple(name for name, kind in KINDS.items() if kind.reference == "alkali")


def report_sections() -> list[tuple[Section, tuple[str, ...]]]:
    """The report's sections in registry order, each with the row kinds it shows."""
    sections: dict[Section, list[str]] = {}
    for kind in KINDS.values():
        if kind.report is not None:
            sections.setdefault(kind.report, []).append(kind.name)
    return [(section, tuple(kinds)) for section, kinds in sections.items()]


__all__ = ["ALKALI_KINDS", "KINDS", "PROPERTIES", "TASKS", "report_sections"]
