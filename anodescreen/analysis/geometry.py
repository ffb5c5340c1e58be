"""Geometry of an adsorbed atom: its height above the surface layer it sits on."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError

#: atoms within this height (Å) of the host's outermost atom form its surface layer
LAYER_DEPTH = 1.0


def adsorption_height(structure: Structure, index: int, region: str = "top") -> float:
    """Height (Å) of atom ``index`` above the mean plane of the host's outermost layer on its side
    (``region`` top: the highest atoms of the rest of the structure; bottom: the lowest, height measured
    downwards). Positive = outside the surface."""
    if region not in ("top", "bottom"):
        raise AnodescreenError(f"an adsorption height needs region top or bottom, not {region!r}", "region")
    z = structure.cart_coords[:, 2]
    host = np.delete(z, index)
    if host.size == 0:
        raise AnodescreenError("no host atoms besides the adsorbate", "structure")
    sign = 1.0 if region == "top" else -1.0
    outer = sign * host.max() if region == "top" else sign * host.min()
    layer = host[sign * host >= outer - LAYER_DEPTH]
    return float(sign * (z[index] - layer.mean()))
