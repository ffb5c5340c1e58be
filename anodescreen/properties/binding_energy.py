"""Binding energy of one alkali adatom at a site: E_b = E(host+M) − E(host) − μ_M (eV, negative = bound).

Planned on every site complex of a host whose complexes are not intercalated; one row per
alkali reference (μ_M of the bulk metal, or of the isolated atom).
"""

from __future__ import annotations

from anodescreen.analysis.energies import binding_energy
from anodescreen.core.property import Property, RowKind
from anodescreen.core.rows import EnergyDetails, alkali_rows
from anodescreen.db.report import ENERGIES

KIND = RowKind(name="binding_energy", unit="eV", definition="E_b = E(host+M) - E(host) - mu_M", reference="alkali", details=EnergyDetails,
               derive=alkali_rows(lambda q, e_complex, e_host, mu: binding_energy(e_complex, e_host, mu)),
               report=ENERGIES)

PROPERTY = Property(name="binding_energy", rows=(KIND,), description="alkali adatom on every site of a surface",
                    applies=lambda host: not host.intercalated)
