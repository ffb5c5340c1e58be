"""Reference states: bulk metals, elemental ground states and isolated atoms, by stable key.

``bulk_metal("Li")`` is the conventional cubic cell of the element's ground-state
crystal in ASE's reference data (bcc for all alkali metals, a = 3.49, 4.23, 5.23, 5.59,
6.05 Å for Li → Cs), labelled ``Li-bcc``. ``isolated_atom("Li")`` is one atom in a
15 × 15.5 × 16 Å box (unequal edges break the cubic symmetry so that DFT can find the
open-shell ground state), labelled ``Li-atom``, with the initial moment of its Hund's-rule
ground state (2S from the ground-state term: 1 μB for the alkali atoms, 2 for O, 4 for Fe). ``elemental_reference("Zn")`` is the ground state used for formation
energies: the bcc/fcc/hcp crystal of ASE's reference data (with its magnetic moment),
AB graphite for C (a = 2.46 Å, c = 6.70 Å), and a dimer in the atom box for H, N, O, F,
Cl (experimental bond lengths; O2 as a triplet), labelled ``Zn-hcp``, ``C-graphite``,
``O-dimer``. Sulfur is one S8 crown ring in the atom box, labelled ``S-S8``: α-S is a
molecular crystal of these rings, which PBE without dispersion (as in the Materials
Project) barely binds to each other, so the ring stands for PBE's α-S; the measured
sublimation enthalpy of α-S (about 0.13 eV/atom, mostly dispersion) bounds what the label
costs. α-Mn (58 atoms) is not built in.
"""

from __future__ import annotations

import numpy as np
from ase.data import atomic_numbers, reference_states
from pymatgen.core import Element, Lattice, Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures.data import bulk_lattice_constant, check_element

_CUBIC_BASIS = {
    "bcc": [[0, 0, 0], [0.5, 0.5, 0.5]],
    "fcc": [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]],
}
ATOM_BOX = (15.0, 15.5, 16.0)


def bulk_metal(symbol: str, lattice: str | None = None, a: float | None = None) -> Structure:
    """Conventional bcc/fcc cell or 2-atom hcp cell of ``symbol``, labelled ``Li-fcc``.

    The reference lattice (ASE) is used as is; another cubic or hcp polymorph of a
    cubic reference metal is built at the same atomic volume (hcp with ideal c/a), so
    ``bulk_metal("Li", "hcp")`` is the Li polymorph of equal density.
    """
    check_element(symbol, "element")
    ref_lattice, ref_a = bulk_lattice_constant(symbol)
    lattice = lattice or ref_lattice
    if lattice not in (*_CUBIC_BASIS, "hcp"):
        raise AnodescreenError(f"no {lattice!r} polymorph of {symbol} (use bcc, fcc or hcp)", "lattice")
    label = {"properties": {"label": f"{symbol}-{lattice}"}}
    if a is None and lattice != ref_lattice:
        if ref_lattice not in _CUBIC_BASIS:
            raise AnodescreenError(f"give a lattice constant for {lattice} {symbol}", "a")
        volume = ref_a**3 / len(_CUBIC_BASIS[ref_lattice])
        a = (volume * len(_CUBIC_BASIS[lattice])) ** (1 / 3) if lattice in _CUBIC_BASIS else (np.sqrt(2) * volume) ** (1 / 3)
    a = a or ref_a
    if lattice == "hcp":
        c_over_a = reference_states[atomic_numbers[symbol]].get("c/a", np.sqrt(8 / 3)) if lattice == ref_lattice else np.sqrt(8 / 3)
        coords = [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]
        return Structure(Lattice.hexagonal(a, a * c_over_a), [symbol] * 2, coords, **label)
    basis = _CUBIC_BASIS[lattice]
    return Structure(Lattice.cubic(a), [symbol] * len(basis), basis, **label)


#: experimental dimer bond lengths (Å; NIST CCCBDB) and total spin moment (μB)
DIMERS = {"H": (0.741, 0.0), "N": (1.098, 0.0), "O": (1.208, 2.0), "F": (1.412, 0.0), "Cl": (1.988, 0.0)}
#: S8 (D4d crown, gas-phase electron diffraction): S-S bond (Å) and S-S-S angle (degrees)
S8_BOND, S8_ANGLE = 2.055, 108.0


def s8_ring(box: tuple[float, float, float] = ATOM_BOX) -> Structure:
    """The S8 crown at the centre of an orthorhombic box: atoms k = 0..7 at azimuth 45°·k on a circle of
    radius r, alternately h/2 above and below; r from the S-S-S angle (the 1-3 distance √2·r), h from
    the bond: r² = d²(1 − cos θ), h² = d² − 2r²(1 − cos 45°)."""
    d, theta = S8_BOND, np.radians(S8_ANGLE)
    r = d * np.sqrt(1 - np.cos(theta))
    h = np.sqrt(d**2 - 2 * r**2 * (1 - np.cos(np.pi / 4)))
    centre = np.array(box) / 2
    coords = [centre + [r * np.cos(k * np.pi / 4), r * np.sin(k * np.pi / 4), (-1) ** k * h / 2] for k in range(8)]
    return Structure(Lattice.orthorhombic(*box), ["S"] * 8, coords, coords_are_cartesian=True,
                     site_properties={"magmom": [0.0] * 8}, properties={"label": "S-S8"})


def is_molecular(reference: Structure) -> bool:
    """Whether an elemental reference is a molecule in a box (relaxed in its box, not cell-relaxed)."""
    return reference.properties["label"].endswith(("-dimer", "-S8"))


def elemental_reference(symbol: str) -> Structure:
    """Ground state of an element for formation energies (see the module docstring)."""
    check_element(symbol, "element")
    state = reference_states[atomic_numbers[symbol]]
    if symbol in DIMERS:
        d, moment = DIMERS[symbol]
        box = Lattice.orthorhombic(*ATOM_BOX)
        coords = [[0.5, 0.5, 0.5 - d / 2 / ATOM_BOX[2]], [0.5, 0.5, 0.5 + d / 2 / ATOM_BOX[2]]]
        return Structure(box, [symbol] * 2, coords, site_properties={"magmom": [moment / 2] * 2},
                         properties={"label": f"{symbol}-dimer"})
    if symbol == "S":
        return s8_ring()
    if symbol == "C":
        coords = [[0, 0, 0.25], [0, 0, 0.75], [1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]
        return Structure(Lattice.hexagonal(2.46, 6.70), ["C"] * 4, coords, properties={"label": "C-graphite"})
    magmom = state.get("magmom_per_atom")
    if state["symmetry"] in (*_CUBIC_BASIS, "hcp"):
        structure = bulk_metal(symbol)
    else:
        raise AnodescreenError(f"no built-in ground state for {symbol} ({state['symmetry']}); supply one",
                               "element")
    if magmom:
        structure.add_site_property("magmom", [float(magmom)] * len(structure))
    return structure


def hund_moment(symbol: str) -> int:
    """Unpaired electrons (μB) of the free atom's ground configuration by Hund's first rule: each open
    subshell of 2(2l+1) states with k electrons holds min(k, 2(2l+1) − k) (O 2, Mn 5, Fe 4, Cu 1)."""
    out = 0
    for _, l_label, k in Element(symbol).full_electronic_structure:
        states = 2 * (2 * "spdf".index(l_label) + 1)
        out += min(k, states - k)
    return out


def isolated_atom(symbol: str, box: tuple[float, float, float] = ATOM_BOX) -> Structure:
    """One ``symbol`` atom at the centre of an orthorhombic box (Å)."""
    check_element(symbol, "element")
    unpaired = hund_moment(symbol)
    return Structure(
        Lattice.orthorhombic(*box),
        [symbol],
        [[0.5, 0.5, 0.5]],
        site_properties={"magmom": [float(unpaired)]},
        properties={"label": f"{symbol}-atom"},
    )


def reference_structure(name: str) -> Structure:
    """Structure of a reference key such as ``Li-bcc`` or ``Na-atom``."""
    try:
        symbol, kind = name.split("-", 1)
    except ValueError:
        raise AnodescreenError(f"reference {name!r} is not of the form Li-bcc / Li-atom", "reference") from None
    if kind == "atom":
        return isolated_atom(symbol)
    if kind in ("graphite", "dimer", "S8"):
        return elemental_reference(symbol)
    return bulk_metal(symbol, kind)

