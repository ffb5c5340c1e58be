"""Reference data used by the builders, each number with its source."""

from __future__ import annotations

from ase.data import atomic_numbers, covalent_radii, reference_states

from anodescreen.errors import AnodescreenError

ALKALI = ("Li", "Na", "K", "Rb", "Cs")

#: Graphene C-C bond length (Å); a = √3·d_CC = 2.4595 Å.
GRAPHENE_CC = 1.42
#: Interlayer spacing of graphite / AB bilayer graphene (Å).
GRAPHITE_SPACING = 3.35

#: Carbon-layer spacing of stage-1 alkali-graphite intercalation compounds (Å): LiC6
#: 3.706 (Guérard & Hérold, Carbon 13, 337 (1975)); KC8 5.35, RbC8 5.65, CsC8 5.94
#: (Dresselhaus & Dresselhaus, Adv. Phys. 51, 1 (2002)). NaC6 does not form; 4.45 Å is
#: a DFT estimate for hypothetical NaC6 and only a starting gap to be relaxed.
INTERCALATED_SPACING = {"Li": 3.706, "Na": 4.45, "K": 5.35, "Rb": 5.65, "Cs": 5.94}

#: Initial magnetic moments (μB) of isolated transition-metal centres in N-doped carbon
#: (high-spin starting guesses, as in high-throughput SAC studies); others start at 0.6
#: like Materials Project input sets so that DFT can still find a moment.
SAC_MAGMOM = {
    "Ti": 2.0, "V": 3.0, "Cr": 4.0, "Mn": 5.0, "Fe": 4.0, "Co": 3.0, "Ni": 2.0,
    "Cu": 1.0, "Zn": 0.0, "Mo": 2.0, "Ru": 2.0, "Rh": 1.0, "Pd": 0.0, "Ag": 0.0,
    "Os": 2.0, "Ir": 1.0, "Pt": 0.0, "Au": 0.0, "Zr": 0.0, "Cd": 0.0,
}
DEFAULT_MAGMOM = 0.6


def spin_ladder(structure) -> tuple[int, list[float]] | None:
    """For a structure with one magnetic transition-metal atom (a single-atom catalyst, with or without
    an alkali): its index and the initial moments to try, high to low spin in steps of 2 μB from its
    initial (high-spin) moment down to 1 or 0 (Mn 5/3/1, Fe 4/2/0, Co 3/1, Ni 2/0); None otherwise."""
    from pymatgen.core import Element

    moments = structure.site_properties.get("magmom") or [0.0] * len(structure)
    metals = [i for i, site in enumerate(structure) if Element(site.specie.symbol).is_transition_metal]
    if len(metals) != 1 or moments[metals[0]] < 1.5:
        return None
    high = int(round(moments[metals[0]]))
    return metals[0], [float(m) for m in range(high, -1, -2)]


def has_moments(structure) -> bool:
    """Whether any site of ``structure`` carries a non-zero initial ``magmom``."""
    return any(abs(m) > 1e-6 for m in structure.site_properties.get("magmom") or [])


def check_element(symbol: str, field: str = "element") -> str:
    """Return ``symbol`` if it is a chemical element, else raise a one-line error."""
    if not isinstance(symbol, str) or symbol not in atomic_numbers or symbol == "X":
        raise AnodescreenError(f"unknown element {symbol!r}", field)
    return symbol


def check_alkali(symbol: str, field: str = "metal") -> str:
    """Return ``symbol`` if it is Li, Na, K, Rb or Cs, else raise a one-line error."""
    check_element(symbol, field)
    if symbol not in ALKALI:
        raise AnodescreenError(
            f"{symbol!r} is not an alkali metal (expected one of {', '.join(ALKALI)})", field
        )
    return symbol


def covalent_radius(symbol: str) -> float:
    """Covalent radius (Å) from ``ase.data.covalent_radii`` (Cordero et al. 2008)."""
    return float(covalent_radii[atomic_numbers[symbol]])


def bulk_lattice_constant(symbol: str) -> tuple[str, float]:
    """Ground-state crystal structure and lattice constant (Å) from ASE reference data."""
    state = reference_states[atomic_numbers[symbol]]
    if "a" not in state:
        raise AnodescreenError(f"{symbol} has no crystalline reference lattice", "element")
    return state["symmetry"], float(state["a"])


def nearest_neighbour_distance(symbol: str) -> float:
    """Nearest-neighbour distance (Å) in the element's ground-state bcc/fcc crystal (else a)."""
    lattice, a = bulk_lattice_constant(symbol)
    return {"bcc": a * 3**0.5 / 2, "fcc": a / 2**0.5}.get(lattice, a)
