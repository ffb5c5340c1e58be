"""Charge transfer of the most favourable site of each host × adsorbate (what papers report).

Three statics at the relaxed complex's geometry (complex, host alone, adsorbate alone) with
the charge density written; two rows from them:

* ``bader_charge``: q = Σ over the adsorbate atoms of (Z_val − N_basin) (e; positive = electrons
  lost), every atom's charge and the SAC metal's charge in details;
* ``charge_depletion``: Δq_z, the plane-integrated Δρ(z) = ρ(host+M) − ρ(host) − ρ(M) integrated
  over its negative range around M (e), with the Δρ(z) curve in details.

Needs an engine that writes a density (CP2K, VASP).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.core.host import Host
from anodescreen.core.plan import CalcRequest, Quantity
from anodescreen.core.property import Calcs, Followup, Property, RowKind
from anodescreen.core.rows import unreferenced_row
from anodescreen.db.report import Section
from anodescreen.db.schema import ResultRow
from anodescreen.engines.base import Engine
from anodescreen.engines.charges import charge_analysis
from anodescreen.errors import AnodescreenError


def _followup(ctx: Followup, host: Host, metal: str, host_key: str) -> None:
    lowest = ctx.best(host, metal)
    if lowest is None:
        return
    doc = ctx.calcs[lowest.complex_key][0]
    structure = ctx.relaxed(lowest.complex_key)
    structure.add_site_property("adsorbate", Structure.from_dict(doc.input_structure).site_properties["adsorbate"])
    label = f"{lowest.complex_label}:charges"
    key = ctx.follow.add(label, "charges", structure, settings={"metal": host.info.metal})
    for kind in (BADER, DEPLETION):
        ctx.follow.quantities.append(Quantity(
            kind=kind.name, host=host.info, adsorbate=lowest.adsorbate, site=lowest.site, region=host.region,
            complex_key=key, host_key=key, reference_keys={}, complex_label=label))


def run_charges_task(request: CalcRequest, engine: Engine, folder: Path) -> dict:
    """Bader charges of every atom and Δρ(z) of the adsorbate (flagged by the 'adsorbate' site property)."""
    flags = request.structure.site_properties.get("adsorbate") or []
    adsorbate = [i for i, flag in enumerate(flags) if flag]
    analysis = charge_analysis(engine, request.structure, adsorbate, folder)
    charges = analysis.charges
    metal = request.settings.get("metal")
    metal_index = [i for i, s in enumerate(request.structure) if s.specie.symbol == metal] if metal else []
    details = {"symbols": charges.symbols, "charges": charges.charges, "electrons": charges.electrons,
               "valence": charges.valence, "vacuum_electrons": charges.vacuum_electrons,
               "total_electrons": charges.total_electrons, "method": charges.method, "adsorbate": adsorbate,
               "transfer": analysis.transfer,
               "metal_charge": charges.transfer(metal_index) if len(metal_index) == 1 else None,
               "difference": asdict(analysis.difference)}
    return {"converged": True, "structure": request.structure.as_dict(), "files": analysis.files,
            "details": details, "code_version": analysis.code_version}


def _check(spec) -> None:
    if not spec.engine.has_density:
        raise AnodescreenError(f"bader_charge needs a charge density: use engine cp2k or vasp "
                               f"(engine {spec.engine.name} writes none)", "calculations")


class DepletionDetails(BaseModel):
    """Δρ(z) of the adsorbate: the plane-integrated density difference and its depleted charge."""

    model_config = ConfigDict(extra="allow")

    z: list[float] = Field(description="Å along c")
    line_density: list[float] = Field(description="plane-integrated Δρ (e/Å)")
    depletion: float = Field(description="Δq_z (e)")
    depletion_range: tuple[float, float] = Field(description="z range integrated (Å)")


class ChargeDetails(BaseModel):
    """Bader charges of every atom of the complex, the adsorbate's net charge and the SAC metal's."""

    model_config = ConfigDict(extra="allow")

    symbols: list[str]
    charges: list[float] = Field(description="net charge per atom (e), Z_val - N_basin")
    electrons: list[float]
    valence: dict[str, float] = Field(description="Z_val per element (pseudopotential)")
    vacuum_electrons: float | None = None
    total_electrons: float | None = None
    method: str
    adsorbate: list[int] = Field(description="indices of the adsorbate atoms")
    transfer: float = Field(description="net Bader charge of the adsorbate (e)")
    metal_charge: float | None = Field(None, description="net charge of the SAC metal (e)")
    difference: DepletionDetails


def _bader(kind: RowKind, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
    details = ChargeDetails.model_validate(calcs[q.complex_key][0].details)
    return unreferenced_row(q, kind, details.transfer, details, calcs, campaign)


def _depletion(kind: RowKind, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
    difference = ChargeDetails.model_validate(calcs[q.complex_key][0].details).difference
    return unreferenced_row(q, kind, difference.depletion, difference, calcs, campaign)


BADER = RowKind(name="bader_charge", unit="e", reference="none", derive=_bader, details=ChargeDetails,
                definition="q = sum over adsorbate atoms of (Z_val - N_basin); positive = electrons lost")
DEPLETION = RowKind(name="charge_depletion", unit="e", reference="none", derive=_depletion, details=DepletionDetails,
                    definition="dq_z = integral of plane-integrated [rho(host+M) - rho(host) - rho(M)] over the "
                               "negative z range around M",
                    report=Section("Charge-density difference Δρ(z)", "curves", "z", "line_density", "z (Å)",
                                   "plane-integrated Δρ (e/Å)"))

PROPERTY = Property(name="bader_charge", rows=(BADER, DEPLETION), description="Bader charges and Δρ(z) of the "
                    "best site per host (CP2K, VASP)", needs_energies=True, followup=_followup,
                    tasks={"charges": run_charges_task}, check=_check)
