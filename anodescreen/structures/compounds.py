"""Prototype crystals of the simple compounds used for formation energies and SEI slabs.

Each compound has a stable key ``<formula>-<prototype>`` (``LiF-rocksalt``, ``CsCl-B2``,
``Li2O-antifluorite``, ``Cs2O-anti-CdCl2``, ``MoS2-2H``, ``Li3N-P6/mmm``, ``LiC6-MC6``) and its
experimental room-temperature structure (Wyckoff, *Crystal Structures*; CRC Handbook): the
halides and hydrides of every alkali (rocksalt; CsCl in B2), the oxides and sulfides
(antifluorite; Cs2O in the layered anti-CdCl2 structure, R-3m, Cs at 6c z = 0.2578, Cs–O
2.85 Å, 2.86 measured). Relax before comparing energies. ``MC6`` is the stage-1 graphite
intercalation compound (P6/mmm, AαAα: carbon layers AA-stacked, M over every third hexagon centre; LiC6
a = 4.305, c = 3.706 Å); NaC6 does not exist in nature and is built in the same
prototype with a wider gallery (c = 4.5 Å) for the relaxation to start from.
"""

from __future__ import annotations

from pymatgen.core import Lattice, Structure

from anodescreen.errors import AnodescreenError

#: formula → (prototype, lattice parameters in Å)
COMPOUNDS: dict[str, tuple[str, tuple[float, ...]]] = {
    "LiF": ("rocksalt", (4.03,)), "NaF": ("rocksalt", (4.63,)), "KF": ("rocksalt", (5.35,)),
    "RbF": ("rocksalt", (5.65,)), "CsF": ("rocksalt", (6.01,)),
    "LiCl": ("rocksalt", (5.13,)), "NaCl": ("rocksalt", (5.64,)), "KCl": ("rocksalt", (6.29,)),
    "RbCl": ("rocksalt", (6.59,)), "CsCl": ("B2", (4.12,)),
    "LiH": ("rocksalt", (4.08,)), "NaH": ("rocksalt", (4.88,)), "KH": ("rocksalt", (5.70,)),
    "RbH": ("rocksalt", (6.05,)), "CsH": ("rocksalt", (6.38,)),
    "Li2O": ("antifluorite", (4.61,)), "Na2O": ("antifluorite", (5.55,)), "K2O": ("antifluorite", (6.44,)),
    "Rb2O": ("antifluorite", (6.76,)), "Cs2O": ("anti-CdCl2", (4.256, 18.99, 0.2578)),
    "Li2S": ("antifluorite", (5.71,)), "Na2S": ("antifluorite", (6.54,)), "K2S": ("antifluorite", (7.39,)),
    "Rb2S": ("antifluorite", (7.65,)),
    "MoS2": ("2H", (3.16, 12.29)),
    "Li3N": ("P6/mmm", (3.65, 3.87)),
    "LiC6": ("MC6", (4.305, 3.706)), "NaC6": ("MC6", (4.305, 4.5)),
}


def compound(formula: str) -> Structure:
    """Conventional cell of ``formula`` in its prototype; label ``<formula>-<prototype>``."""
    if formula not in COMPOUNDS:
        raise AnodescreenError(f"no prototype for {formula!r} (have {', '.join(COMPOUNDS)})", "formula")
    prototype, params = COMPOUNDS[formula]
    cation, anion = _split(formula)
    label = {"properties": {"label": f"{formula}-{prototype}"}}
    fcc = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    if prototype == "rocksalt":
        species = [cation] * 4 + [anion] * 4
        coords = fcc + [[x + 0.5 - (x + 0.5 >= 1), y, z] for x, y, z in fcc]
        return Structure(Lattice.cubic(params[0]), species, coords, **label)
    if prototype == "B2":  # CsCl: simple cubic anions, the cation at the cube centre
        return Structure(Lattice.cubic(params[0]), [cation, anion], [[0.5, 0.5, 0.5], [0, 0, 0]], **label)
    if prototype == "anti-CdCl2":  # R-3m, anion at 3a, cation at 6c (0, 0, z): O layers between Cs bilayers
        a, c, z = params
        cell = Structure.from_spacegroup("R-3m", Lattice.hexagonal(a, c), [anion, cation], [[0, 0, 0], [0, 0, z]])
        return Structure(cell.lattice, cell.species, cell.frac_coords, **label)
    if prototype == "antifluorite":  # anion fcc, cations in all tetrahedral holes
        tetra = [[x, y, z] for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)]
        return Structure(Lattice.cubic(params[0]), [anion] * 4 + [cation] * 8, fcc + tetra, **label)
    if prototype == "2H":  # P6_3/mmc, Mo at 2c, S at 4f with z = 0.621
        a, c = params
        coords = [[1 / 3, 2 / 3, 1 / 4], [2 / 3, 1 / 3, 3 / 4], [1 / 3, 2 / 3, 0.621], [2 / 3, 1 / 3, 0.121],
                  [2 / 3, 1 / 3, 0.379], [1 / 3, 2 / 3, 0.879]]
        return Structure(Lattice.hexagonal(a, c), ["Mo"] * 2 + ["S"] * 4, coords, **label)
    if prototype == "MC6":  # M at 1a, C at 6k (x = 1/3, z = 1/2): a hexagon centred under/over M
        a, c = params
        ring = [[1 / 3, 0, 0.5], [0, 1 / 3, 0.5], [2 / 3, 2 / 3, 0.5], [2 / 3, 0, 0.5], [0, 2 / 3, 0.5],
                [1 / 3, 1 / 3, 0.5]]
        return Structure(Lattice.hexagonal(a, c), [cation] + ["C"] * 6, [[0, 0, 0]] + ring, **label)
    a, c = params  # Li3N: N at 1a, Li at 1b and 2c
    coords = [[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0], [2 / 3, 1 / 3, 0]]
    return Structure(Lattice.hexagonal(a, c), ["N", "Li", "Li", "Li"], coords, **label)


def _split(formula: str) -> tuple[str, str]:
    from pymatgen.core import Composition

    elements = sorted(Composition(formula).elements, key=lambda e: e.X)
    return str(elements[0]), str(elements[-1])
