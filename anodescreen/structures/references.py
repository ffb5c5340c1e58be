"""Reference states: bulk metals and isolated atoms, each named by a stable key.

``bulk_metal("Li")`` is the conventional cubic cell of the element's ground-state
crystal in ASE's reference data (bcc for all alkali metals, a = 3.49, 4.23, 5.23, 5.59,
6.05 Å for Li → Cs), labelled ``Li-bcc``. ``isolated_atom("Li")`` is one atom in a
15 × 15.5 × 16 Å box (unequal edges break the cubic symmetry so that DFT can find the
open-shell ground state), labelled ``Li-atom``, with an initial moment of 1 μB for
odd-electron atoms.
"""

from __future__ import annotations

from pymatgen.core import Element, Lattice, Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures.data import bulk_lattice_constant, check_element

_CUBIC_BASIS = {
    "bcc": [[0, 0, 0], [0.5, 0.5, 0.5]],
    "fcc": [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]],
}
ATOM_BOX = (15.0, 15.5, 16.0)


def bulk_metal(symbol: str, lattice: str | None = None, a: float | None = None) -> Structure:
    """Conventional bcc or fcc cell of ``symbol`` (ASE reference lattice by default)."""
    check_element(symbol, "element")
    ref_lattice, ref_a = bulk_lattice_constant(symbol)
    lattice = lattice or ref_lattice
    if lattice not in _CUBIC_BASIS:
        raise AnodescreenError(f"no cubic {lattice!r} reference for {symbol} (use bcc or fcc)", "lattice")
    a = a or (ref_a if lattice == ref_lattice else None)
    if not a:
        raise AnodescreenError(f"give a lattice constant for {lattice} {symbol}", "a")
    basis = _CUBIC_BASIS[lattice]
    return Structure(
        Lattice.cubic(a), [symbol] * len(basis), basis, properties={"label": f"{symbol}-{lattice}"}
    )


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
    return bulk_metal(symbol, kind)

