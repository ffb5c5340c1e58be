"""Bader charges: Henkelman's ``bader`` when it is on the PATH, else an on-grid partition here.

A density is a :class:`DensityGrid` (electrons per Å³ on a periodic grid, plus the atoms).
Readers take VASP CHGCAR-format files (CHGCAR, AECCAR*, in ρ·V_cell) and cube files (CP2K
``E_DENSITY_CUBE``, in e/bohr³). With a reference density (VASP: AECCAR0 + AECCAR2, from
LAECHG) the basins come from the reference and the charge from the valence density.

The Python partition is the on-grid steepest-ascent method of Henkelman, Arnaldsson and
Jónsson, Comput. Mater. Sci. 36, 354 (2006): every grid point points to the neighbour (of
26) with the largest density gain per unit distance; following the pointers ends at a
density maximum; each maximum belongs to the atom nearest to it. It carries the method's
known lattice bias (boundaries follow grid directions); on the same grid it matches the
``bader -b ongrid`` reference to about 1e-3 e per atom. Charges: q = Z_val − N_basin
(positive = electrons lost), with the valence of the pseudopotential actually used.
"""

from __future__ import annotations

import gzip
import itertools
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase.units import Bohr
from pymatgen.core import Lattice, Structure

from anodescreen.errors import AnodescreenError


@dataclass
class DensityGrid:
    """An electron density on a periodic grid spanning ``structure``'s cell (e/Å³)."""

    density: np.ndarray
    structure: Structure

    @property
    def voxel_volume(self) -> float:
        return self.structure.volume / self.density.size

    @property
    def electrons(self) -> float:
        return float(self.density.sum() * self.voxel_volume)

    def __add__(self, other: DensityGrid) -> DensityGrid:
        _check_same_grid(self, other)
        return DensityGrid(self.density + other.density, self.structure)

    def __sub__(self, other: DensityGrid) -> DensityGrid:
        _check_same_grid(self, other)
        return DensityGrid(self.density - other.density, self.structure)


def _check_same_grid(a: DensityGrid, b: DensityGrid) -> None:
    if a.density.shape != b.density.shape or not np.allclose(a.structure.lattice.matrix,
                                                             b.structure.lattice.matrix, atol=1e-4):
        raise AnodescreenError(f"densities on different grids or cells ({a.density.shape} vs {b.density.shape})",
                               "density")


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def read_density(path: str | Path) -> DensityGrid:
    """A CHGCAR-format file (CHGCAR, AECCAR0/2, CHGCAR_sum) or a cube file, optionally gzipped."""
    path = Path(path)
    if not path.is_file():
        raise AnodescreenError(f"no density file {str(path)!r}", "density")
    name = path.name.removesuffix(".gz")
    try:
        if name.endswith(".cube"):
            return _read_cube(path)
        return _read_chgcar(path)
    except (ValueError, IndexError, OSError) as exc:
        raise AnodescreenError(f"cannot read density {path.name}: {str(exc).splitlines()[0][:120]}",
                               "density") from None


def _read_cube(path: Path) -> DensityGrid:
    from ase.io.cube import read_cube

    with _open_text(path) as handle:
        found = read_cube(handle)
    atoms, data = found["atoms"], found["data"]
    structure = Structure(Lattice(atoms.cell.array), atoms.get_chemical_symbols(), atoms.positions,
                          coords_are_cartesian=True)
    return DensityGrid(np.asarray(data, dtype=float) / Bohr**3, structure)


def _read_chgcar(path: Path) -> DensityGrid:
    from pymatgen.io.vasp import Chgcar

    chgcar = Chgcar.from_file(str(path))  # total block only; stored as ρ·V_cell
    return DensityGrid(chgcar.data["total"] / chgcar.structure.volume, chgcar.structure)


@dataclass
class BaderCharges:
    """Per-atom Bader populations and charges of one density."""

    symbols: list[str]
    electrons: list[float] = field(metadata={"unit": "e"})
    valence: list[float]
    vacuum_electrons: float
    total_electrons: float
    method: str

    @property
    def charges(self) -> list[float]:
        """q = Z_val − N_basin per atom (positive = electrons lost)."""
        return [z - n for z, n in zip(self.valence, self.electrons)]

    def transfer(self, indices: list[int]) -> float:
        """Net charge of a group of atoms (an adsorbate, a SAC metal)."""
        return float(sum(self.charges[i] for i in indices))


def bader_charges(charge: DensityGrid, valence: dict[str, float], reference: DensityGrid | None = None,
                  vacuum: float | None = None, use_binary: bool = True) -> BaderCharges:
    """Bader charges of ``charge``'s atoms; basins from ``reference`` when given.

    ``valence`` maps element → Z_val of the pseudopotential used. ``vacuum`` (e/Å³): points
    below it belong to no atom. The Henkelman program is used when on the PATH (unless
    ``use_binary`` is False).
    """
    missing = {s.specie.symbol for s in charge.structure} - set(valence)
    if missing:
        raise AnodescreenError(f"no valence given for {', '.join(sorted(missing))}", "valence")
    if reference is not None:
        _check_same_grid(charge, reference)
    if use_binary and shutil.which("bader"):
        electrons, vac, method = _run_binary(charge, reference, vacuum)
    else:
        electrons, vac = _ongrid(charge, reference, vacuum)
        method = "on-grid steepest ascent (anodescreen)"
    symbols = [s.specie.symbol for s in charge.structure]
    return BaderCharges(symbols, [float(e) for e in electrons], [float(valence[s]) for s in symbols], float(vac),
                        charge.electrons, method)


def _neighbour_steps(lattice: np.ndarray, shape: tuple[int, int, int]) -> list[tuple[tuple[int, int, int], float]]:
    """The 26 grid steps with their Cartesian lengths (Å)."""
    voxel = lattice / np.array(shape)[:, None]
    steps = [d for d in itertools.product((-1, 0, 1), repeat=3) if any(d)]
    return [(d, float(np.linalg.norm(np.array(d) @ voxel))) for d in steps]


def ongrid_basins(density: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """For each grid point the flat index of the density maximum its steepest-ascent path ends at."""
    shape = density.shape
    index = np.arange(density.size).reshape(shape)
    best_gain = np.zeros(shape)
    pointer = index.copy()
    for step, length in _neighbour_steps(lattice, shape):
        shifted = tuple(-s for s in step)
        gain = (np.roll(density, shifted, axis=(0, 1, 2)) - density) / length
        better = gain > best_gain
        best_gain[better] = gain[better]
        pointer[better] = np.roll(index, shifted, axis=(0, 1, 2))[better]
    pointer = pointer.ravel()
    while True:  # pointer jumping: path lengths halve each pass
        jumped = pointer[pointer]
        if np.array_equal(jumped, pointer):
            return pointer.reshape(shape)
        pointer = jumped


def _ongrid(charge: DensityGrid, reference: DensityGrid | None, vacuum: float | None) -> tuple[np.ndarray, float]:
    structure = charge.structure
    lattice = structure.lattice
    basins = ongrid_basins((charge if reference is None else reference).density, lattice.matrix)
    maxima = np.unique(basins)
    frac = np.array(np.unravel_index(maxima, basins.shape)).T / np.array(basins.shape)
    owner_of_max = np.argmin(lattice.get_all_distances(frac, structure.frac_coords), axis=1)
    owner = np.empty(basins.size, dtype=int)
    owner[maxima] = owner_of_max
    owner = owner[basins.ravel()]
    per_voxel = charge.density.ravel() * charge.voxel_volume
    vac_electrons = 0.0
    if vacuum is not None:
        empty = (charge if reference is None else reference).density.ravel() < vacuum
        vac_electrons = float(per_voxel[empty].sum())
        owner, per_voxel = owner[~empty], per_voxel[~empty]
    return np.bincount(owner, weights=per_voxel, minlength=len(structure)), vac_electrons


def _run_binary(charge: DensityGrid, reference: DensityGrid | None, vacuum: float | None):
    with tempfile.TemporaryDirectory(prefix="bader") as tmp:
        tmp = Path(tmp)
        write_chgcar(charge, tmp / "CHGCAR")
        cmd = ["bader", "CHGCAR"]
        if reference is not None:
            write_chgcar(reference, tmp / "CHGCAR_ref")
            cmd += ["-ref", "CHGCAR_ref"]
        if vacuum is not None:
            cmd += ["-vac", f"{vacuum:g}"]
        run = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if run.returncode != 0 or not (tmp / "ACF.dat").exists():
            raise AnodescreenError(f"bader failed: {(run.stderr or run.stdout).strip()[-160:]}", "bader")
        acf = parse_acf((tmp / "ACF.dat").read_text())
        version = re.search(r"Version\s+(\S+)", run.stdout)
    return acf["charges"], acf["vacuum_charge"], f"Henkelman bader {version.group(1) if version else ''}".strip()


def write_chgcar(grid: DensityGrid, path: Path) -> None:
    """CHGCAR-format file of ``grid`` (values ρ·V_cell, x fastest), as ``bader`` reads it.

    Written here rather than by pymatgen's ``Chgcar.write_file``, which keeps only ~7
    significant digits; these keep 12.
    """
    from pymatgen.io.vasp import Poscar

    values = (grid.density * grid.structure.volume).transpose(2, 1, 0).ravel()
    lines = [Poscar(grid.structure).get_str(significant_figures=10).rstrip(), "",
             " ".join(str(n) for n in grid.density.shape)]
    lines += [" ".join(f"{v:.11E}" for v in values[i:i + 5]) for i in range(0, len(values), 5)]
    path.write_text("\n".join(lines) + "\n")


def parse_acf(text: str) -> dict:
    """Charges, coordinates, volumes and totals from a Henkelman ``ACF.dat``."""
    rows = [line.split() for line in text.splitlines() if re.match(r"^\s*\d+\s+-?\d", line)]
    totals = dict(re.findall(r"(VACUUM CHARGE|VACUUM VOLUME|NUMBER OF ELECTRONS):\s+(\S+)", text))
    if not rows or "NUMBER OF ELECTRONS" not in totals:
        raise AnodescreenError("not a bader ACF.dat file", "bader")
    return {"positions": [[float(x) for x in r[1:4]] for r in rows], "charges": [float(r[4]) for r in rows],
            "min_dist": [float(r[5]) for r in rows], "volumes": [float(r[6]) for r in rows],
            "vacuum_charge": float(totals.get("VACUUM CHARGE", 0.0)),
            "electrons": float(totals["NUMBER OF ELECTRONS"])}
