"""Alkali metal intercalated in bilayer graphene.

One metal layer (``layers=1``): the two sheets are pulled apart to the carbon-layer
spacing of the stage-1 graphite intercalation compound of that metal (LiC6 3.706 Å,
NaC6 4.45 Å (estimate), KC8 5.35 Å, RbC8 5.65 Å, CsC8 5.94 Å) and one metal atom per
supercell sits in the mid-plane on a gallery site. The supercell sets the concentration:
``r3xr3`` gives C6MC6 (MC12 per bilayer, metal over every third hexagon, the LiC6
in-plane order), ``2x2`` gives C8MC8, ``3x3`` C18MC18. The default site is the first
symmetry-unique gallery site (the hexagon centre, ``hollow`` in AA; ``hollow-top`` in
AB). Labels read ``BLG-AA(r3xr3)/Li@hollow/1L``. The pristine bilayer used as host
reference is :func:`anodescreen.structures.graphene.bilayer_graphene`.
"""

from __future__ import annotations

from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures.data import INTERCALATED_SPACING, check_alkali
from anodescreen.structures.graphene import bilayer_graphene
from anodescreen.structures.sites import Site, add_adsorbate, adsorption_sites


def expanded_bilayer(metal: str, stacking: str = "AA", size="r3xr3", vacuum: float = 15.0) -> Structure:
    """The bilayer opened to the intercalation spacing of ``metal`` (no metal yet)."""
    check_alkali(metal, "metal")
    return bilayer_graphene(size, stacking, INTERCALATED_SPACING[metal], vacuum)


def gallery_sites(metal: str, stacking: str = "AA", size="r3xr3") -> list[Site]:
    """Symmetry-unique sites in the gallery of the opened bilayer."""
    return adsorption_sites(expanded_bilayer(metal, stacking, size), region="gallery")


def intercalated_bilayer(
    metal: str,
    stacking: str = "AA",
    size="r3xr3",
    layers: int = 1,
    site: str | None = None,
    vacuum: float = 15.0,
) -> Structure:
    """Bilayer graphene with one ``metal`` atom per supercell in its gallery.

    Parameters
    ----------
    metal
        Li, Na, K, Rb or Cs.
    stacking
        ``AA`` or ``AB`` carbon stacking.
    size
        Graphene supercell, which fixes the concentration (``r3xr3`` = C6MC6).
    layers
        Number of metal layers; only single-layer intercalation is built so far.
    site
        Gallery-site label (see :func:`gallery_sites`); the first one by default.
    """
    check_alkali(metal, "metal")
    if layers != 1:
        raise AnodescreenError(
            f"{layers} metal layers requested; only single-layer intercalation is built so far",
            "layers",
        )
    host = expanded_bilayer(metal, stacking, size, vacuum)
    sites = adsorption_sites(host, region="gallery")
    chosen = sites[0] if site is None else next((s for s in sites if s.label == site), None)
    if chosen is None:
        raise AnodescreenError(
            f"no gallery site {site!r} (have {', '.join(s.label for s in sites)})", "site"
        )
    structure = add_adsorbate(host, metal, chosen)
    structure.properties["label"] += "/1L"
    return structure
