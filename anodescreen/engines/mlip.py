"""Machine-learned interatomic potential engine (pre-screening only, never DFT).

Runs atomate2's force-field makers with a universal potential whose weights ship inside
its wheel, so nothing is downloaded: CHGNet 0.3.0 (``chgnet``) or SevenNet-0 (``sevenn``).
Energies are labelled ``engine: mlip`` and are for ranking candidates. CHGNet is the default:
against CP2K both find the best site equally often, CHGNet keeps the bridge saddle of Li on
graphene (SevenNet-0 has a spurious minimum there), SevenNet-0 is closer to CP2K's absolute
binding energies (benchmarks/mlip_vs_dft.py).
"""

from __future__ import annotations

import contextlib
import io
from functools import cached_property
from importlib.metadata import version
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from anodescreen.analysis.geometry import is_layered
from anodescreen.engines.base import LAYER_FMAX, EnergyForm, EngineModel, EngineResult, LevelOfTheory, Task

if TYPE_CHECKING:
    from pathlib import Path

    from pymatgen.core import Structure

#: potential name → (atomate2 force-field name, package holding the weights, model tag, calculator kwargs)
POTENTIALS = {
    "CHGNet": ("CHGNet", "chgnet", "CHGNet-0.3.0", {}),
    "SevenNet": ("SevenNet", "sevenn", "SevenNet-0 (11Jul2024)", {"model": "7net-0"}),
}


#: the energies each potential was trained on, as its formation energies of ten alkali compounds show:
#: CHGNet 0.03 eV/atom from MP2020-corrected MP and 0.19 from raw GGA, SevenNet-0 0.02 from raw and 0.20
#: from corrected (benchmarks/mlip_formation.py)
TRAINED_ON = {"CHGNet": "MP2020", "SevenNet": "GGA"}


class MLIPEngine(EngineModel):
    """Relaxations and single points with a universal ML potential via atomate2."""

    name: Literal["mlip"] = "mlip"
    model: Literal["CHGNet", "SevenNet"] = "CHGNet"
    fmax: float = Field(0.05, gt=0, description="force convergence (eV/Å)")
    max_steps: int = Field(300, gt=0, description="ionic steps before a relaxation fails")
    optimizer: Literal["BFGS", "FIRE", "LBFGS"] = "BFGS"  # 46 vs 121 steps for Li on Fe-N4
    layer_fmax: float = Field(LAYER_FMAX, gt=0, description="layered slabs (bilayers, films): also every atomic "
                              "layer's net normal force per atom below this (eV/Å; BFGS)")
    batch_size: int = Field(1, ge=1, description="relaxations per batched force evaluation (BFGS, local runs; "
                                                 "the same minima as one at a time, so not in the calc key)")

    def level_of_theory(self) -> LevelOfTheory:
        _, package, tag, _ = POTENTIALS[self.model]
        return LevelOfTheory(engine="mlip", code=package, code_version=version(package), method=tag)

    @property
    def relax_settings(self) -> dict:
        return {"fmax": self.fmax, "max_steps": self.max_steps, "optimizer": self.optimizer}

    @property
    def energy_form(self) -> EnergyForm:
        return TRAINED_ON[self.model]

    def settings_for(self, structure: Structure, task: str) -> dict:
        """A layered slab's relaxation also converges its layers (``layer_fmax``, BFGS only)."""
        if task == "relax" and self.optimizer == "BFGS" and is_layered(structure):
            return {**self.relax_settings, "layer_fmax": self.layer_fmax}
        return self.relax_settings

    @cached_property
    def _makers(self) -> dict:
        from atomate2.forcefields.jobs import ForceFieldRelaxMaker, ForceFieldStaticMaker

        ff_name, _, _, calculator_kwargs = POTENTIALS[self.model]
        # final_atoms_object_file=None: atomate2 would otherwise write an xyz into the cwd
        common = {"force_field_name": ff_name, "calculator_kwargs": calculator_kwargs,
                  "relax_kwargs": {"fmax": self.fmax, "final_atoms_object_file": None}}
        relax = {"steps": self.max_steps, "optimizer_kwargs": {"optimizer": self.optimizer}}
        return {
            "relax": ForceFieldRelaxMaker(relax_cell=False, **relax, **common),
            "relax-cell": ForceFieldRelaxMaker(relax_cell=True, **relax, **common),
            "static": ForceFieldStaticMaker(**common),
        }

    def calculator(self, workdir: Path | None = None):
        """The potential's own ASE calculator (loaded once per call of this method)."""
        from atomate2.forcefields.utils import ase_calculator

        ff_name, _, _, calculator_kwargs = POTENTIALS[self.model]
        with contextlib.redirect_stdout(io.StringIO()):
            return ase_calculator(ff_name, **calculator_kwargs)

    @property
    def batches(self) -> bool:
        """Whether relaxations run together (:meth:`run_batch`)."""
        return self.batch_size > 1 and self.optimizer == "BFGS"

    def evaluate(self, structures: list[Structure]) -> list[tuple[float, np.ndarray]]:
        """Energy (eV) and forces (eV/Å) of each structure: CHGNet in batches of ``batch_size``, other
        potentials one by one through their ASE calculator."""
        if self.model == "CHGNet":
            with contextlib.redirect_stdout(io.StringIO()):
                out = self._model.predict_structure(structures, task="ef", batch_size=self.batch_size)
            out = [out] if isinstance(out, dict) else out
            return [(float(o["e"]) * len(s), np.asarray(o["f"])) for o, s in zip(out, structures,
                                                                                               strict=True)]
        from pymatgen.io.ase import AseAtomsAdaptor

        results = []
        for s in structures:
            atoms = AseAtomsAdaptor.get_atoms(s)
            atoms.calc = self._model
            results.append((float(atoms.get_potential_energy()), np.asarray(atoms.get_forces())))
        return results

    @cached_property
    def _model(self):
        if self.model == "CHGNet":
            from chgnet.model import CHGNet

            with contextlib.redirect_stdout(io.StringIO()):
                return CHGNet.load(verbose=False)
        return self.calculator()

    def run_batch(self, structures: list[Structure]) -> list[EngineResult]:
        """Relax (positions) every structure together (:func:`~anodescreen.engines.batch.relax_together`)."""
        from anodescreen.engines.batch import relax_together

        return [EngineResult(energy=r["energy"], structure=r["structure"], converged=r["converged"],
                             n_steps=r["n_steps"], max_force=r["max_force"], forces=r["forces"].tolist(),
                             energies=r["energies"])
                for r in relax_together(structures, self.evaluate, self.fmax, self.max_steps, self.layer_fmax)]

    def run(self, structure: Structure, task: Task, workdir: Path | None = None) -> EngineResult:
        """Run ``task`` on ``structure``; the potential is loaded once per engine. A layered slab relaxes
        with :meth:`run_batch` (ASE's BFGS with the layer criterion), everything else with atomate2's makers."""
        if "layer_fmax" in self.settings_for(structure, task):
            return self.run_batch([structure])[0]
        maker = self._makers[task]
        with contextlib.redirect_stdout(io.StringIO()):  # the potential prints as it loads
            doc = maker.make.original(maker, structure)
        out = doc.output
        forces = np.asarray(out.forces) if out.forces is not None else None
        max_force = float(np.linalg.norm(forces, axis=1).max()) if forces is not None and len(forces) else None
        steps = out.ionic_steps if isinstance(out.ionic_steps, list) else []
        converged = task == "static" or bool(doc.is_force_converged)
        return EngineResult(
            energy=float(out.energy),
            structure=doc.structure,
            converged=converged,
            n_steps=int(out.n_steps or len(steps) or 1),
            max_force=max_force,
            forces=forces.tolist() if forces is not None else None,
            energies=[float(s.energy) for s in steps if s.energy is not None],
        )
