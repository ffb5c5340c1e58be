"""Host families, one module each, registered in :data:`FAMILIES`.

The campaign spec's ``hosts`` entries, ``anodescreen build <family>`` and the planning
of every host's complexes are generated from this registry; a new family is one module
(its spec entry model, ``expand``, optionally ``complexes``, ``build_options``: see
:class:`~anodescreen.core.host.HostFamily`) and one line here.
"""

from __future__ import annotations

from anodescreen.core.host import HostFamily
from anodescreen.hosts import bilayer, graphene, heterostructure, mos2, sac, slab

FAMILIES: dict[str, HostFamily] = {f.name: f for f in (
    sac.FAMILY,
    graphene.FAMILY,
    bilayer.FAMILY,
    heterostructure.FAMILY,
    slab.FAMILY,
    mos2.FAMILY,
)}

__all__ = ["FAMILIES"]
