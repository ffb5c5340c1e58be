"""Surface slabs of metals (current collectors, alkali metal) and SEI phases.

Cut from bulk with pymatgen's ``SlabGenerator`` (at least ``layers`` planes of the
(hkl) family, in-plane cell LLL-reduced), keeping the first termination that is
stoichiometric-symmetric and non-polar, then re-centred in ``vacuum`` Å with c normal to
the surface and repeated ``size`` in-plane. Bulk: ASE's reference lattice for elements
(Cu fcc 3.61 Å, Li bcc 3.49 Å), :mod:`anodescreen.structures.compounds` for compounds.
Labels give the atomic planes actually built: ``Cu(111)-4L(3x3)``, ``LiF(100)-8L(2x2)``.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Structure
from pymatgen.core.surface import SlabGenerator

from anodescreen.errors import AnodescreenError
from anodescreen.structures._geometry import check_min_distance, slab_structure
from anodescreen.structures.compounds import COMPOUNDS, compound
from anodescreen.structures.references import bulk_metal


def _miller(miller) -> tuple[int, int, int]:
    m = tuple(int(x) for x in str(miller).strip("()") if x.isdigit()) if isinstance(miller, str) else tuple(miller)
    if len(m) != 3 or not any(m):
        raise AnodescreenError(f"bad Miller index {miller!r} (e.g. 111 or (1, 0, 0))", "miller")
    return m


def surface_slab(
    bulk: Structure, miller=(1, 1, 1), layers: int = 4, size: tuple[int, int] = (1, 1), vacuum: float = 15.0
) -> Structure:
    """A symmetric, non-polar slab of ``bulk`` with at least ``layers`` (hkl) planes."""
    hkl = _miller(miller)
    if layers < 1:
        raise AnodescreenError("need at least one layer", "layers")
    generator = SlabGenerator(bulk, hkl, min_slab_size=layers, min_vacuum_size=1, in_unit_planes=True,
                              center_slab=True, primitive=True, lll_reduce=True, reorient_lattice=True)
    slabs = [s for s in generator.get_slabs(symmetrize=False) if not s.is_polar() and s.is_symmetric()]
    if not slabs:
        raise AnodescreenError(f"no symmetric non-polar {hkl} termination", "miller")
    slab = slabs[0]
    a, b = slab.lattice.matrix[:2]
    e1 = a / np.linalg.norm(a)
    e3 = np.cross(a, b) / np.linalg.norm(np.cross(a, b))  # surface normal becomes z
    frame = np.array([e1, np.cross(e3, e1), e3])
    in_plane = slab.lattice.matrix[:2] @ frame.T
    atoms = slab.cart_coords @ frame.T
    n, m = size
    vectors = in_plane * np.array([[n], [m]])
    species, cart = [], []
    for i in range(n):
        for j in range(m):
            species += [s.species_string for s in slab]
            cart.append(atoms + i * in_plane[0] + j * in_plane[1])
    name = "".join(str(x) for x in hkl)
    planes = len(np.unique(np.round(atoms[:, 2] / 0.3)))  # atomic planes, 0.3 Å apart at least
    formula = bulk.properties.get("label", bulk.composition.reduced_formula).split("-")[0]
    label = f"{formula}({name})-{planes}L({n}x{m})"
    structure = slab_structure(vectors, species, np.vstack(cart), vacuum, label=label)
    return check_min_distance(structure, label)


def metal_slab(symbol: str, miller=(1, 1, 1), layers: int = 4, size=(3, 3), vacuum: float = 15.0) -> Structure:
    """Slab of an elemental metal in its reference crystal (Cu(111), Li(110) …)."""
    return surface_slab(bulk_metal(symbol), miller, layers, size, vacuum)


def sei_slab(formula: str = "LiF", miller=(1, 0, 0), layers: int = 4, size=(2, 2), vacuum: float = 15.0) -> Structure:
    """Slab of an SEI compound (LiF(100), Li2O(111), NaF(100) …)."""
    if formula not in COMPOUNDS:
        raise AnodescreenError(f"no prototype for {formula!r}", "formula")
    return surface_slab(compound(formula), miller, layers, size, vacuum)
