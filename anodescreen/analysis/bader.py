"""Bader charges: Henkelman's ``bader`` when it is on the PATH, else an on-grid partition here.

A density is a :class:`DensityGrid` (electrons per Å³ on a periodic grid, plus the atoms).
Readers take VASP CHGCAR-format files (CHGCAR, AECCAR*, in ρ·V_cell) and cube files (CP2K
``E_DENSITY_CUBE``, in e/bohr³). With a reference density (VASP: AECCAR0 + AECCAR2, from
LAECHG) the basins come from the reference and the charge from the valence density.

The Python partition follows Henkelman's program. On-grid (Henkelman, Arnaldsson, Jónsson,
Comput. Mater. Sci. 36, 354 (2006)): every grid point points to the neighbour (of 26) with
the largest density gain per unit distance; following the pointers ends at a density
maximum; each maximum belongs to the atom nearest to it. Its basin boundaries follow grid
directions (lattice bias). Near-grid (Tang, Sanville, Henkelman, J. Phys.: Condens. Matter
21, 084204 (2009)), the default, removes the bias: starting from the on-grid basins, every
point next to another basin is re-traced along the true gradient direction, stepping to the
nearest grid point and carrying the off-grid remainder to later steps, until the path
reaches a point whose basin is settled; re-traced points settle, and points next to a
changed boundary are traced next, until no boundary moves. On the fixtures' grids it
matches ``bader -b neargrid`` (v1.03) to 1e-6 e on five of seven densities, 1e-4 e on
Fe3O4 and 6e-3 e on the Ca2N electride (on-grid there: 0.03 e). Charges: q = Z_val − N_basin
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
from typing import Literal

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


Method = Literal["neargrid", "ongrid"]


def bader_charges(charge: DensityGrid, valence: dict[str, float], reference: DensityGrid | None = None,
                  vacuum: float | None = None, use_binary: bool = True, method: Method = "neargrid") -> BaderCharges:
    """Bader charges of ``charge``'s atoms; basins from ``reference`` when given.

    ``valence`` maps element → Z_val of the pseudopotential used. ``vacuum`` (e/Å³): points
    below it belong to no atom. The Henkelman program is used when on the PATH (unless
    ``use_binary`` is False), with the same ``method``.
    """
    missing = {s.specie.symbol for s in charge.structure} - set(valence)
    if missing:
        raise AnodescreenError(f"no valence given for {', '.join(sorted(missing))}", "valence")
    if reference is not None:
        _check_same_grid(charge, reference)
    if use_binary and shutil.which("bader"):
        electrons, vac, program = _run_binary(charge, reference, vacuum, method)
    else:
        electrons, vac = _partition(charge, reference, vacuum, method)
        program = "anodescreen"
    symbols = [s.specie.symbol for s in charge.structure]
    return BaderCharges(symbols, [float(e) for e in electrons], [float(valence[s]) for s in symbols], float(vac),
                        charge.electrons, f"{method} ({program})")


def _neighbour_steps(lattice: np.ndarray, shape: tuple[int, int, int]) -> list[tuple[tuple[int, int, int], float]]:
    """The 26 grid steps with their Cartesian lengths (Å)."""
    voxel = lattice / np.array(shape)[:, None]
    steps = [d for d in itertools.product((-1, 0, 1), repeat=3) if any(d)]
    return [(d, float(np.linalg.norm(np.array(d) @ voxel))) for d in steps]


def ascent_pointers(density: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """For each grid point (flat index) its on-grid steepest-ascent neighbour; itself at a maximum."""
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
    return pointer.ravel()


def _follow(pointer: np.ndarray) -> np.ndarray:
    """Where each pointer chain ends (pointer jumping: path lengths halve each pass)."""
    while True:
        jumped = pointer[pointer]
        if np.array_equal(jumped, pointer):
            return pointer
        pointer = jumped


def ongrid_basins(density: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """For each grid point the flat index of the density maximum its on-grid ascent ends at."""
    return _follow(ascent_pointers(density, lattice)).reshape(density.shape)


def _neighbours(points: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Flat indices of the 26 periodic grid neighbours of each flat index in ``points``."""
    steps = np.array([d for d, _ in _neighbour_steps(np.eye(3), shape)])
    ijk = np.array(np.unravel_index(points, shape)).T
    return np.ravel_multi_index(((ijk[:, None, :] + steps) % np.array(shape)).transpose(2, 0, 1), shape)


def _next_to_other_basin(labels: np.ndarray) -> np.ndarray:
    edge = np.zeros(labels.shape, dtype=bool)
    for step, _ in _neighbour_steps(np.eye(3), labels.shape):
        edge |= np.roll(labels, step, axis=(0, 1, 2)) != labels
    return edge.ravel()


def _anint(x: np.ndarray) -> np.ndarray:
    """Round half away from zero (Fortran ANINT, as in the reference program)."""
    return np.trunc(x + np.copysign(0.5, x))


#: near-grid paths remember this many previous points and never step back onto one (loops)
_PATH_MEMORY = 8


def neargrid_basins(density: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """For each grid point the flat index of the density maximum its near-grid ascent ends at."""
    shape = np.array(density.shape)
    flat = density.ravel()
    step_ongrid = ascent_pointers(density, lattice)
    is_max = step_ongrid == np.arange(flat.size)
    labels = _follow(step_ongrid)
    voxel = lattice / shape[:, None]
    to_grid = np.linalg.inv(voxel @ voxel.T)  # gradient per grid step → ascent direction in grid steps
    traced = np.zeros(flat.size, dtype=bool)
    pending = _next_to_other_basin(labels.reshape(density.shape)) & ~is_max
    while pending.any():
        start = np.flatnonzero(pending)
        settled = ~pending
        pos, carry = start.copy(), np.zeros((start.size, 3))
        memory = np.full((start.size, _PATH_MEMORY), -1)
        end = np.empty(start.size, dtype=int)
        active = np.arange(start.size)
        n_steps = 0
        while active.size:
            here = pos[active]
            ijk = np.array(np.unravel_index(here, density.shape)).T
            rho = flat[here]
            grad = np.empty((here.size, 3))
            for axis in range(3):
                up, down = ijk.copy(), ijk.copy()
                up[:, axis] = (up[:, axis] + 1) % shape[axis]
                down[:, axis] = (down[:, axis] - 1) % shape[axis]
                rho_up = flat[np.ravel_multi_index(up.T, density.shape)]
                rho_down = flat[np.ravel_multi_index(down.T, density.shape)]
                grad[:, axis] = np.where((rho_up < rho) & (rho_down < rho), 0.0, (rho_up - rho_down) / 2)
            direction = grad @ to_grid
            largest = np.abs(direction).max(axis=1)
            flat_gradient = largest < 1e-30
            direction = np.where(flat_gradient[:, None], 0.0, direction / np.where(flat_gradient, 1, largest)[:, None])
            step = _anint(direction)
            rest = carry[active] + direction - step
            step += _anint(rest)
            rest -= _anint(rest)
            nxt = np.ravel_multi_index(((ijk + step.astype(int)) % shape).T, density.shape)
            n_steps += 1
            if n_steps > shape.sum():  # a long wander: finish uphill only, which cannot loop
                back = flat[nxt] <= rho
            else:
                back = (memory[active] == nxt[:, None]).any(axis=1)
            on_grid = flat_gradient | back
            nxt[on_grid] = step_ongrid[here[on_grid]]
            rest[on_grid] = 0.0
            memory[active, n_steps % _PATH_MEMORY] = here
            carry[active], pos[active] = rest, nxt
            done = is_max[nxt] | settled[nxt]
            end[active[done]] = labels[nxt[done]]
            active = active[~done]
        moved = start[labels[start] != end]
        labels[start] = end
        traced[start] = True
        # only points next to a moved one can have become boundary points
        near = np.unique(_neighbours(moved, density.shape))
        near = near[~traced[near] & ~is_max[near]]
        near = near[(labels[_neighbours(near, density.shape)] != labels[near, None]).any(axis=1)]
        pending = np.zeros(flat.size, dtype=bool)
        pending[near] = True
    return labels.reshape(density.shape)


def _partition(charge: DensityGrid, reference: DensityGrid | None, vacuum: float | None,
               method: Method) -> tuple[np.ndarray, float]:
    structure = charge.structure
    lattice = structure.lattice
    basins_of = neargrid_basins if method == "neargrid" else ongrid_basins
    basins = basins_of((charge if reference is None else reference).density, lattice.matrix)
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


def _run_binary(charge: DensityGrid, reference: DensityGrid | None, vacuum: float | None, method: Method):
    with tempfile.TemporaryDirectory(prefix="bader") as tmp:
        tmp = Path(tmp)
        write_chgcar(charge, tmp / "CHGCAR")
        cmd = ["bader", "CHGCAR", "-b", method]
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
