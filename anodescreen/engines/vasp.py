"""VASP engine: atomate2's VASP makers with input sets for alkali-on-carbon chemistry.

The input set is atomate2's generator on the Materials Project PBE base (PAW POTCARs,
MP +U values when asked), with what this chemistry needs on top: a vdW correction (D3,
D3(BJ), optB88-vdW or optB86b-vdW), an explicit Γ-centred k-mesh with one point across
vacuum, spin polarisation when the structure carries magnetic moments (SACs, atoms), a
dipole correction along z for slabs that are not mirror-symmetric, and LAECHG/LCHARG on
statics whose density is wanted (Bader). ``mp_compatible`` gives the plain MP settings
so formation energies can be corrected with MP's compatibility scheme.

VASP runs under custodian through atomate2's ``run_vasp`` (its handlers are the retry
policy); the parsed output is atomate2's ``TaskDoc``.
"""

from __future__ import annotations

import json
import shutil
from contextlib import chdir, contextmanager
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field
from pymatgen.core import Structure

from anodescreen.engines.base import (
    EngineError,
    EngineModel,
    EngineResult,
    LevelOfTheory,
    NebRun,
    Task,
    is_polar_slab,
    kpoint_mesh,
    runs_polarized,
    spin_polarized,
)

#: vdW name → INCAR tags (D3 via IVDW; the nonlocal functionals as in VASP's wiki)
VDW_INCAR = {
    "D3": {"IVDW": 11},
    "D3(BJ)": {"IVDW": 12},
    "optB88-vdW": {"GGA": "BO", "PARAM1": 0.1833333333, "PARAM2": 0.22, "LUSE_VDW": True, "AGGAC": 0.0},
    "optB86b-vdW": {"GGA": "MK", "PARAM1": 0.1234, "PARAM2": 1.0, "LUSE_VDW": True, "AGGAC": 0.0},
}


#: role → file VASP writes for a Bader static (LCHARG + LAECHG)
DENSITY_FILES = {"density": "CHGCAR", "core_density": "AECCAR0", "valence_density": "AECCAR2"}


class VaspEngine(EngineModel):
    """VASP via atomate2 makers; needs ``vasp_std`` and POTCARs (or ``potcar_spec`` to write inputs only)."""

    name: Literal["vasp"] = "vasp"
    has_density: ClassVar[bool] = True
    native_neb: ClassVar[bool] = True
    functional: Literal["PBE"] = "PBE"
    vdw: Literal["D3", "D3(BJ)", "optB88-vdW", "optB86b-vdW"] | None = "D3"
    encut: float = Field(520.0, gt=0, description="plane-wave cutoff (eV)")
    kspacing: float = Field(0.25, gt=0, description="k-point spacing, |b_i| with 2π (1/Å)")
    ismear: Literal[-1, 0, 1] = 0
    sigma: float = Field(0.05, gt=0, description="smearing width (eV)")
    spin: Literal["auto", "on", "off"] = Field("auto", description="auto: ISPIN=2 when magmoms are set")
    dipole: Literal["auto", "on", "off"] = Field("auto", description="auto: LDIPOL along z for polar slabs")
    hubbard_u: dict[str, float] = Field(default_factory=dict, description="element → U (eV), Dudarev")
    mp_compatible: bool = Field(False, description="plain MP PBE(+U) settings, no vdW, for formation energies")
    ediff: float = Field(1e-5, gt=0)
    fmax: float = Field(0.02, gt=0, description="force convergence (eV/Å), EDIFFG = -fmax")
    max_steps: int = Field(200, gt=0, description="NSW")
    write_density: bool = Field(False, description="LAECHG + LCHARG on statics (Bader)")
    command: str = Field("vasp_std", description="VASP executable (or any replay command)")
    custodian: bool = Field(True, description="run under custodian's handlers")
    max_errors: int = Field(5, ge=0, description="custodian: corrections before a run is given up")
    potcar_spec: bool = Field(False, description="write POTCAR.spec instead of POTCAR (tests, no POTCARs)")

    def level_of_theory(self) -> LevelOfTheory:
        vdw = None if self.mp_compatible else self.vdw
        u = self._mp_u if self.mp_compatible else dict(self.hubbard_u)
        return LevelOfTheory(
            engine="vasp", code="vasp", method="PBE (MP-compatible)" if self.mp_compatible else self.functional,
            vdw=vdw, hubbard_u=u, basis="PAW (MP POTCARs)", cutoff=f"{self.encut:g} eV",
            kpoints=f"Γ-centred spacing {self.kspacing:g} 1/Å; 1 across vacuum",
            spin_polarized=spin_polarized(self.spin),
            smearing=f"ISMEAR {self.ismear}, SIGMA {self.sigma:g} eV", dipole_correction=self.dipole,
        )

    @property
    def relax_settings(self) -> dict:
        return {"fmax": self.fmax, "max_steps": self.max_steps, "optimizer": "VASP CG"}

    @cached_property
    def _mp_u(self) -> dict[str, float]:
        from pymatgen.io.vasp.sets import MPRelaxSet

        return dict(MPRelaxSet.CONFIG["INCAR"]["LDAUU"]["O"])  # MP uses the same U with F

    def incar_settings(self, structure: Structure, task: Task) -> dict:
        """INCAR tags this engine sets on top of the MP base set."""
        incar = {"ENCUT": self.encut, "EDIFF": self.ediff, "ISMEAR": self.ismear, "SIGMA": self.sigma,
                 "LASPH": True, "LREAL": False, "LWAVE": False, "LCHARG": False, "NELM": 200,
                 "ALGO": "Normal", "GGA": "PE", "METAGGA": None}
        if not self.mp_compatible and self.vdw:
            incar |= VDW_INCAR[self.vdw]
        incar["ISPIN"] = 2 if runs_polarized(self.spin, structure) else 1
        polar = is_polar_slab(structure)
        if self.dipole == "on" or (self.dipole == "auto" and polar):
            incar |= {"LDIPOL": True, "IDIPOL": 3}
        if not self.mp_compatible:
            incar |= _ldau(structure, self.hubbard_u)
        if task == "static":
            incar |= {"NSW": 0, "IBRION": -1}
            if self.write_density:
                incar |= {"LAECHG": True, "LCHARG": True}
        else:
            incar |= {"NSW": self.max_steps, "IBRION": 2, "EDIFFG": -self.fmax,
                      "ISIF": 3 if task == "relax-cell" else 2}
        return incar

    def input_set_generator(self, structure: Structure, task: Task, neb: dict | None = None):
        """atomate2 generator with the MP base config and this engine's settings; ``neb``: NEB tags on a relax."""
        from atomate2.vasp.sets.core import NebSetGenerator, RelaxSetGenerator, StaticSetGenerator
        from pymatgen.io.vasp import Kpoints
        from pymatgen.io.vasp.sets import MPRelaxSet

        common = {"config_dict": MPRelaxSet.CONFIG | {"KPOINTS": {}},
                  "user_incar_settings": self.incar_settings(structure, task) | (neb or {}),
                  "user_kpoints_settings": Kpoints.gamma_automatic(kpoint_mesh(structure, self.kspacing)),
                  "auto_ispin": False, "auto_ismear": False, "auto_kspacing": False, "auto_lreal": False}
        if neb:
            return NebSetGenerator(num_images=neb["IMAGES"], climbing_image=neb["LCLIMB"], **common)
        return (StaticSetGenerator if task == "static" else RelaxSetGenerator)(**common)

    def run(self, structure: Structure, task: Task, workdir: Path) -> EngineResult:
        """Write inputs, run VASP (custodian), parse atomate2's TaskDoc."""
        from atomate2.vasp.jobs.core import RelaxMaker, StaticMaker

        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        maker_cls = StaticMaker if task == "static" else RelaxMaker
        order = _species_order(structure)
        ordered = Structure.from_sites([structure[i] for i in order])
        maker = maker_cls(input_set_generator=self.input_set_generator(ordered, task),
                          write_input_set_kwargs={"potcar_spec": self.potcar_spec},
                          run_vasp_kwargs=self._run_vasp_kwargs())
        with _failures_as_engine_errors(workdir), chdir(workdir):
            response = maker.make.original(maker, ordered)
        doc = response.output
        calc = doc.calcs_reversed[0]
        steps = calc.output.ionic_steps or []
        energies = [float(s.e_0_energy) for s in steps if s.e_0_energy is not None]
        forces = np.asarray(doc.output.forces) if doc.output.forces is not None else None
        max_force = float(np.linalg.norm(forces, axis=1).max()) if forces is not None and len(forces) else None
        final = _original_order(doc.output.structure, structure, order)
        converged = doc.state.value == "successful" and (task == "static" or len(steps) < self.max_steps)
        files, valence = density_outputs(workdir) if self.write_density and task == "static" else ({}, {})
        if forces is not None:
            unsorted = np.empty_like(forces)
            unsorted[order] = forces
            forces = unsorted.tolist()
        return EngineResult(energy=float(doc.output.energy), structure=final, converged=converged,
                            n_steps=max(1, len(steps)), max_force=max_force, energies=energies, forces=forces,
                            attempts=custodian_attempts([c.model_dump() for c in doc.custodian or []]),
                            files=files, valence=valence,
                            code_version=calc.vasp_version)

    def _run_vasp_kwargs(self, job_type: str = "normal") -> dict:
        kwargs = {"vasp_cmd": self.command, "job_type": job_type if self.custodian else "direct",
                  "max_errors": self.max_errors}
        if job_type == "neb":  # custodian's handlers read vasp.out (its NEB job defaults to neb_vasp.out)
            kwargs["vasp_job_kwargs"] = {"output_file": "vasp.out", "stderr_file": "std_err.txt"}
        return kwargs

    def neb(self, images: list[Structure], climb: bool, spring: float, fmax: float, max_steps: int,
            workdir: Path) -> NebRun:
        """VASP's own NEB over ``images`` (endpoints first and last, held fixed).

        atomate2's NebSetGenerator with this engine's settings and the VTST optimiser
        (IBRION 3, POTIM 0, IOPT 3 = FIRE; needs a VTST-patched VASP, as on most HPC
        builds), spring −``spring`` (nudged), run by atomate2's ``run_vasp`` (custodian's NEB
        job). Each image is read from its OUTCAR, which VTST and plain VASP both write;
        atomate2's NEB task document needs a vasprun.xml per image, which not every run keeps.
        """
        from atomate2.vasp.files import write_vasp_input_set
        from atomate2.vasp.run import run_vasp

        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        order = _species_order(images[0])
        ordered = [Structure.from_sites([image[i] for i in order]) for image in images]
        tags = {"IMAGES": len(images) - 2, "LCLIMB": climb, "SPRING": -spring, "IBRION": 3, "POTIM": 0, "IOPT": 3,
                "EDIFFG": -fmax, "NSW": max_steps, "ISIF": 2}
        generator = self.input_set_generator(ordered[0], "relax", neb=tags)
        with _failures_as_engine_errors(workdir), chdir(workdir):
            write_vasp_input_set(ordered[0], generator, potcar_spec=self.potcar_spec)
            for i, image in enumerate(ordered):
                folder = Path(f"{i:02d}")
                folder.mkdir(exist_ok=True)
                image.to(filename=str(folder / "POSCAR"), fmt="poscar")
                shutil.copy("KPOINTS", folder / "KPOINTS")  # VASP 6 with HDF5 checks each image's KPOINTS
            run_vasp(**self._run_vasp_kwargs("neb"))
        return read_neb_images(workdir, images[1:-1], order)


def read_neb_images(workdir: Path, initial: list[Structure], order: list[int]) -> NebRun:
    """The intermediate images 01…N of a VASP NEB in ``workdir`` (E(σ→0), F·τ̂ and CONTCAR of each).

    ``initial``: the images as written, in site order; ``order``: the VASP (POSCAR) order of those sites.
    """
    from pymatgen.io.vasp import Outcar

    structures, energies, tangent, steps, converged = [], [], [], [], True
    for n, start in enumerate(initial, start=1):
        folder = workdir / f"{n:02d}"
        outcar_file = _output_file(folder, "OUTCAR")
        contcar = _output_file(folder, "CONTCAR")
        if outcar_file is None or contcar is None:
            raise EngineError(f"VASP NEB image {n:02d} has no OUTCAR/CONTCAR: did VASP run all images?")
        outcar = Outcar(outcar_file)
        outcar.read_neb()
        outcar.read_pattern({"steps": r"energy\(sigma->0\)", "done": r"reached required accuracy",
                             "version": r"^\s*vasp\.(\S+)"}, terminate_on_match=False)
        energies.append(float(outcar.data["energy"]))
        tangent.append(outcar.data.get("tangent_force"))
        steps.append(len(outcar.data["steps"]))
        converged &= bool(outcar.data["done"])
        structures.append(_original_order(Structure.from_file(contcar), start, order))
    complete = all(f is not None for f in tangent)
    return NebRun(structures=structures, energies=energies, tangent_forces=tangent if complete else None,
                  force_calls=sum(steps), converged=converged, optimizer="VASP + VTST, IOPT 3 (FIRE)",
                  code_version=outcar.data["version"][0][0] if outcar.data["version"] else None)


def _output_file(workdir: Path, name: str) -> Path | None:
    """``name`` in ``workdir`` as VASP wrote it or as atomate2 left it (gzipped), if there."""
    return next((p for p in (workdir / name, workdir / f"{name}.gz") if p.is_file()), None)


def density_outputs(workdir: Path) -> tuple[dict[str, str], dict[str, float]]:
    """The densities a LAECHG static left in ``workdir`` (role → file) and the POTCARs' ZVAL per element."""
    files = {role: str(path) for role, name in DENSITY_FILES.items()
             if (path := _output_file(workdir, name)) is not None}
    return files, potcar_valence(_output_file(workdir, "vasprun.xml"))


def potcar_valence(vasprun: Path | None) -> dict[str, float]:
    """Element → ZVAL of the POTCARs a run used, from vasprun.xml's atominfo (empty if absent)."""
    import gzip
    import xml.etree.ElementTree as ET

    if vasprun is None:
        return {}
    with (gzip.open if vasprun.suffix == ".gz" else open)(vasprun, "rb") as handle:
        for _, elem in ET.iterparse(handle):
            if elem.tag == "array" and elem.get("name") == "atomtypes":
                fields = [f.text.strip() for f in elem.findall("field")]
                rows = [[c.text.strip() for c in rc.findall("c")] for rc in elem.iter("rc")]
                element, zval = fields.index("element"), fields.index("valence")
                return {row[element]: float(row[zval]) for row in rows}
    return {}


def _species_order(structure: Structure) -> list[int]:
    """Site order of VASP's species blocks (by electronegativity, as MP's POTCAR order)."""
    return sorted(range(len(structure)), key=lambda i: structure[i].specie.X)


@contextmanager
def _failures_as_engine_errors(workdir: Path):
    """Any failure of a run in ``workdir`` as an EngineError carrying custodian's corrections."""
    try:
        yield
    except EngineError:
        raise
    except Exception as exc:
        log = workdir / "custodian.json"
        attempts = custodian_attempts(json.loads(log.read_text())) if log.is_file() else []
        raise EngineError(f"VASP run failed: {type(exc).__name__}: {exc}", attempts) from exc


def custodian_attempts(run_log: list[dict]) -> list[str]:
    """One line per custodian correction: the errors a handler found and the actions it took."""
    lines = []
    for entry in run_log:
        for correction in entry.get("corrections") or []:
            errors = ", ".join(map(str, correction.get("errors", [])))
            actions = "; ".join(json.dumps(a, sort_keys=True, default=str) for a in correction.get("actions") or [])
            lines.append(f"{errors}: {actions or 'no action'}")
    return lines


def _original_order(final: Structure, initial: Structure, order: list[int]) -> Structure:
    """``final`` (in VASP's sorted order) back in the order, site properties and labels of ``initial``."""
    coords = np.empty((len(initial), 3))
    coords[order] = final.frac_coords
    return Structure(final.lattice, initial.species, coords, site_properties=initial.site_properties,
                     properties=dict(initial.properties))


def _ldau(structure: Structure, hubbard_u: dict[str, float]) -> dict:
    """Dudarev +U tags for the elements of ``structure`` (U = 0 for the others)."""
    if not any(el.symbol in hubbard_u for el in structure.composition):
        return {"LDAU": False}
    symbols = [el.symbol for el in structure.composition]
    return {"LDAU": True, "LDAUTYPE": 2, "LMAXMIX": 4,
            "LDAUU": {s: hubbard_u.get(s, 0.0) for s in symbols},
            "LDAUL": {s: 2 if s in hubbard_u else -1 for s in symbols},
            "LDAUJ": dict.fromkeys(symbols, 0.0)}
