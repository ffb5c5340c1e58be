"""Pure structure builders: plain arguments in, a pymatgen ``Structure`` out.

Every structure carries ``structure.properties["label"]``, a stable human-readable name
(``Fe-N4@G(5x5)/Li@metal-top``, ``BLG-AA(r3xr3)/Li@hollow/1L``, ``Li-bcc``), and the same
arguments always give the same structure, byte for byte.
"""

from anodescreen.structures.defects import defective_graphene
from anodescreen.structures.graphene import bilayer_graphene, graphene
from anodescreen.structures.intercalation import expanded_bilayer, gallery_sites, intercalated_bilayer
from anodescreen.structures.references import bulk_metal, isolated_atom, reference_structure
from anodescreen.structures.sac import sac_site
from anodescreen.structures.sites import Site, add_adsorbate, adsorption_sites

__all__ = [
    "Site",
    "add_adsorbate",
    "adsorption_sites",
    "bilayer_graphene",
    "bulk_metal",
    "defective_graphene",
    "expanded_bilayer",
    "gallery_sites",
    "graphene",
    "intercalated_bilayer",
    "isolated_atom",
    "reference_structure",
    "sac_site",
]
