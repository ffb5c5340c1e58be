"""Builder stoichiometry of 1-4 metal layers in AB-BLG vs the published capacity table.

python benchmarks/capacity_table.py  — prints mAh/g (host+metal mass) per metal and layer
count, the published value (Chepkasov et al. 2020, DOMAIN.md §3), the relative difference
and the lateral strain of the coincidence cell.
"""

from __future__ import annotations

from anodescreen.analysis.energies import capacity
from anodescreen.structures import intercalated_bilayer, metal_multilayer_bilayer

TABLE = {"Li": [177, 595, 828, 1020], "Na": [160, 335, 439, 521], "K": [146, 214, 277, 326],
         "Rb": [116, 142, 173, 200], "Cs": [96, 105, 125, 140]}


def main() -> None:
    print(f"{'metal':5} {'L':>2} {'cell':28} {'built':>7} {'paper':>6} {'diff':>7} {'strain':>7}")
    for metal, published in TABLE.items():
        for layers in (1, 2, 3, 4):
            s = intercalated_bilayer(metal, "AB") if layers == 1 else metal_multilayer_bilayer(metal, "AB", layers)
            comp = s.composition
            value = capacity(comp[metal], f"C{int(comp['C'])}", metal, include_metal_mass=True)
            strain = s.properties.get("strain", 0.0)
            print(f"{metal:5} {layers:>2} {s.properties['label']:28} {value:7.1f} {published[layers - 1]:6d} "
                  f"{value / published[layers - 1] - 1:+7.1%} {strain:7.2%}")


if __name__ == "__main__":
    main()
