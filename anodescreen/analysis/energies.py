"""Energy definitions (DOMAIN.md §2) as plain functions. Energies in eV; negative = favourable.

The text stored with every number is its row kind's ``definition`` (:mod:`anodescreen.properties`).
"""

from __future__ import annotations

from pymatgen.core import Composition

FARADAY = 96485.33212  # C mol⁻¹

def binding_energy(e_complex: float, e_host: float, mu: float) -> float:
    """Binding energy of one adatom: E(host+M) − E(host) − μ_M."""
    return e_complex - e_host - mu


def intercalation_energy(e_complex: float, e_host: float, n: int, mu: float) -> float:
    """Average intercalation (formation) energy per metal atom of ``n`` atoms."""
    if n < 1:
        raise ValueError(f"need at least one intercalated atom, got {n}")
    return (e_complex - e_host - n * mu) / n


def average_voltage(e_formation_bulk_ref: float) -> float:
    """Average voltage vs M⁺/M (V) from a bulk-referenced formation energy per M."""
    return -e_formation_bulk_ref


def formation_energy_per_atom(e_compound: float, composition: Composition, mu: dict[str, float]) -> float:
    """ΔH_f per atom from elemental chemical potentials ``mu`` (eV/atom)."""
    comp = Composition(composition)
    missing = [str(el) for el in comp.elements if str(el) not in mu]
    if missing:
        raise ValueError(f"no chemical potential for {', '.join(missing)}")
    return (e_compound - sum(n * mu[str(el)] for el, n in comp.items())) / comp.num_atoms


def capacity(n_alkali: float, host_formula: str, metal: str, include_metal_mass: bool) -> float:
    """Theoretical gravimetric capacity (mAh g⁻¹) of ``n_alkali`` per ``host_formula``.

    ``include_metal_mass`` names the convention: host+metal mass (the BLG multilayer
    table) or host-only mass (graphite LiC6 → 372 mAh g⁻¹).
    """
    mass = Composition(host_formula).weight
    if include_metal_mass:
        mass += n_alkali * Composition(metal).weight
    return n_alkali * FARADAY / (3.6 * float(mass))
