"""Pure structure builders: plain arguments in, a pymatgen ``Structure`` out.

Every structure carries ``structure.properties["label"]``, a stable human-readable name
(``Fe-N4@G(5x5)/Li@metal-top``, ``BLG-AA(r3xr3)/Li@hollow/1L``, ``Li-bcc``), and the same
arguments always give the same structure, byte for byte.
"""

from anodescreen.structures._geometry import min_distance
from anodescreen.structures.compounds import compound
from anodescreen.structures.defects import defective_graphene
from anodescreen.structures.graphene import bilayer_graphene, graphene
from anodescreen.structures.heterostructure import graphene_mos2, heterostructure_candidates, mos2_monolayer
from anodescreen.structures.intercalation import (
    expanded_bilayer,
    gallery_sites,
    intercalated_bilayer,
    metal_multilayer_bilayer,
)
from anodescreen.structures.references import (
    bulk_metal,
    elemental_reference,
    isolated_atom,
    reference_structure,
)
from anodescreen.structures.sac import sac_site
from anodescreen.structures.sites import Site, add_adsorbate, adsorption_sites, cover
from anodescreen.structures.slabs import metal_slab, sei_slab, surface_slab

__all__ = [
    "Site",
    "add_adsorbate",
    "adsorption_sites",
    "bilayer_graphene",
    "bulk_metal",
    "compound",
    "cover",
    "defective_graphene",
    "elemental_reference",
    "expanded_bilayer",
    "gallery_sites",
    "graphene",
    "graphene_mos2",
    "heterostructure_candidates",
    "intercalated_bilayer",
    "isolated_atom",
    "metal_multilayer_bilayer",
    "metal_slab",
    "min_distance",
    "mos2_monolayer",
    "reference_structure",
    "sac_site",
    "sei_slab",
    "surface_slab",
]
