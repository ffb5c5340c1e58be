"""Schema-valid synthetic rows, for store round trips and the query benchmark.

Every row is a real :class:`ResultRow` (validated, hashed id) whose value is random and
whose campaign is ``"synthetic"``, so they can never be mistaken for computed numbers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from pymatgen.core import Lattice, Structure

from anodescreen.db.schema import AdsorbateInfo, HostInfo, ReferenceState, ResultRow
from anodescreen.properties.binding_energy import KIND
from anodescreen.theory import LevelOfTheory

METALS = ("Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Zr", "Mo", "Ru", "Pd", "Pt", "Ir")
MOTIFS = ("N4", "N3", "N2C2", "N2O2", "N3O", "N3C", "N2", "N4O")
ALKALI = ("Li", "Na", "K", "Rb", "Cs")
SITES = ("metal-top", *(f"{kind}-{i}" for kind in ("N-top", "C-top", "bridge", "hollow") for i in range(10)))[:40]
SIZES = tuple(range(4, 15))
THEORIES = (
    LevelOfTheory(engine="mlip", code="chgnet", method="CHGNet-0.3.0"),
    LevelOfTheory(engine="cp2k", code="cp2k", method="PBE", vdw="D3", basis="DZVP-MOLOPT-SR-GTH",
                  cutoff="400/50 Ry", kpoints="3x3x1", smearing="FD 300 K", spin_polarized="auto"),
)


def synthetic_rows(n: int, seed: int = 0) -> Iterator[ResultRow]:
    """``n`` distinct binding-energy rows over SAC hosts × alkali × sites × references × theories."""
    axes = (METALS, MOTIFS, SIZES, ALKALI, SITES, ("bulk", "atom"), THEORIES)
    space = math.prod(len(a) for a in axes)
    if n > space:
        raise ValueError(f"at most {space} distinct synthetic rows")
    rng = random.Random(seed)
    structure = Structure(Lattice.hexagonal(2.46, 15.0), ["C", "C", "Li"],
                          [[0, 0, 0.5], [1 / 3, 2 / 3, 0.5], [2 / 3, 1 / 3, 0.62]]).as_dict()
    for index in rng.sample(range(space), n):
        picks = []
        for axis in axes:
            index, i = divmod(index, len(axis))
            picks.append(axis[i])
        metal, motif, size, element, site, reference, lot = picks
        host = HostInfo(family="sac", label=f"{metal}-{motif}@G({size}x{size})", metal=metal, motif=motif,
                        supercell=f"{size}x{size}")
        row_id = ResultRow.make_id(KIND.name, host.label, element, 1, site, reference, lot.key)
        state = ReferenceState(name=reference, label=f"{element}-{'bcc' if reference == 'bulk' else 'atom'}",
                               element=element, energy_per_atom=rng.uniform(-2.0, 0.0), calc_key="synthetic")
        yield ResultRow(
            row_id=row_id, kind=KIND.name, value=round(rng.uniform(-3.0, 1.0), 6),
            unit=KIND.unit, definition=KIND.definition, host=host,
            adsorbate=AdsorbateInfo(element=element), site=site, final_site=site, reference=reference,
            reference_states=[state], level_of_theory=lot, lot_key=lot.key, is_dft=lot.is_dft,
            structure_label=f"{host.label}/{element}@{site}", structure=structure,
            calc_keys={"complex": "synthetic"}, job_ids={"complex": "synthetic"}, campaigns=["synthetic"])
