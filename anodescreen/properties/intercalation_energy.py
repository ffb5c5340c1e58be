"""Average intercalation energy per metal atom: E_f = [E(host+nM) − E(host) − n·μ_M] / n (eV, negative =
favourable), n counted from the compositions.

Planned on every complex of an intercalated host (a bilayer gallery site, a metal film); one
row per alkali reference.
"""

from __future__ import annotations

from anodescreen.analysis.energies import intercalation_energy
from anodescreen.core.property import Property, RowKind
from anodescreen.core.rows import EnergyDetails, alkali_rows
from anodescreen.db.report import ENERGIES

KIND = RowKind(
    name="intercalation_energy", unit="eV", definition="E_f = [E(host+nM) - E(host) - n*mu_M] / n",
    reference="alkali", details=EnergyDetails, report=ENERGIES,
    derive=alkali_rows(lambda q, e_complex, e_host, mu: intercalation_energy(e_complex, e_host,
                                                                             q.adsorbate.count, mu)))

PROPERTY = Property(name="intercalation_energy", rows=(KIND,),
                    description="alkali in a gallery or as a metal film, per metal atom",
                    applies=lambda host: host.intercalated)
