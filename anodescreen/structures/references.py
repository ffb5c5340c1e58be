"""Reference states: bulk metals, elemental ground states and isolated atoms, by stable key.

``bulk_metal("Li")`` is the conventional cubic cell of the element's ground-state
crystal in ASE's reference data (bcc for all alkali metals, a = 3.49, 4.23, 5.23, 5.59,
6.05 Å for Li → Cs), labelled ``Li-bcc``. ``isolated_atom("Li")`` is one atom in a
15 × 15.5 × 16 Å box (unequal edges break the cubic symmetry so that DFT can find the
open-shell ground state), labelled ``Li-atom``, with an initial moment of 1 μB for
odd-electron atoms. ``elemental_reference("Zn")`` is the ground state used for formation
energies: the bcc/fcc/hcp crystal of ASE's reference data (with its magnetic moment),
AB graphite for C (a = 2.46 Å, c = 6.70 Å), and a dimer in the atom box for H, N, O, F,
Cl (experimental bond lengths; O2 as a triplet), labelled ``Zn-hcp``, ``C-graphite``,
``O-dimer``. α-Mn and α-S (58- and 128-atom cells) are not built in.
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


def isolated_atom(symbol: str, box: tuple[float, float, float] = ATOM_BOX) -> Structure:
    """One ``symbol`` atom at the centre of an orthorhombic box (Å)."""
    check_element(symbol, "element")
    unpaired = Element(symbol).Z % 2
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
    if kind in ("graphite", "dimer"):
        return elemental_reference(symbol)
    return bulk_metal(symbol, kind)

