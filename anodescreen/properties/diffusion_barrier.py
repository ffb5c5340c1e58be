"""Diffusion barrier of an alkali hop: E_a = max_i E_i − E_initial (eV) from a climbing-image NEB
(reverse barrier, profile, spline, images, force calls and method in the row's details).

Planned after the relaxations, for every symmetry-distinct hop between sites of each host's
region (not for metal films). Endpoints are placed on the relaxed host; in a gallery, on the
most favourable relaxed complex without its metal, so the gap is the one the metal opened.
A stage before (``NEB endpoints``) relaxes every distinct endpoint once; the NEB then starts
from them, their energies taken from those relaxations.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Structure

from anodescreen.core.host import Host
from anodescreen.core.plan import CalcRequest, Plan, Quantity
from anodescreen.core.property import Calcs, Followup, Property, RowKind
from anodescreen.core.rows import unreferenced_row
from anodescreen.db.report import Section
from anodescreen.db.schema import AdsorbateInfo, CalcDoc, ResultRow
from anodescreen.engines.base import Engine
from anodescreen.engines.neb import NebSettings, engine_neb, relaxed_endpoints
from anodescreen.structures.paths import diffusion_hops
from anodescreen.structures.sites import add_adsorbate

#: NEB settings key: the endpoints are already relaxed (by the endpoint stage); value: their energies
RELAXED_ENDPOINTS = "relaxed_endpoints"
ENDPOINT_STAGE = "NEB endpoints"


def _followup(ctx: Followup, host: Host, metal: str, host_key: str) -> None:
    if host.multilayer is not None:
        return
    # hops from the ideal geometry (its symmetry), endpoints on the relaxed one; in a gallery
    # both are the best complex without its metal: the gap the metal opened
    ideal, base = host.structure, ctx.relaxed(host_key)
    if host.region == "gallery":
        lowest = ctx.best(host, metal)
        doc = ctx.calcs[lowest.complex_key][0] if lowest else None
        ideal = _without_adsorbate(Structure.from_dict(doc.input_structure), doc) if doc else None
        base = _without_adsorbate(ctx.relaxed(lowest.complex_key), doc) if doc else None
    hops = diffusion_hops(ideal, host.region, host.centre, host.site_radius) if base else []
    for hop in hops:
        label = f"{host.info.label}/{metal}:{hop.label}"
        ends = [add_adsorbate(base, metal, hop.start), add_adsorbate(base, metal, hop.end)]
        settings = ctx.settings("neb").model_dump()
        relaxed_ends = [_relaxed_endpoint(ctx.follow, end, ctx.prepared) for end in ends]
        if all(relaxed_ends):
            ends = [structure for structure, _ in relaxed_ends]
            settings |= {RELAXED_ENDPOINTS: [energy for _, energy in relaxed_ends]}
        key = ctx.follow.add(label, "neb", ends[0], final=ends[1], settings=settings)
        ctx.follow.quantities.append(Quantity(
            kind=KIND.name, host=host.info, adsorbate=AdsorbateInfo(element=metal), site=hop.label,
            region=host.region, complex_key=key, host_key=key, reference_keys={}, complex_label=label))


def _without_adsorbate(structure: Structure, doc: CalcDoc) -> Structure:
    """A relaxed complex with its adsorbate atoms removed (flagged in the calculation's input)."""
    flags = Structure.from_dict(doc.input_structure).site_properties["adsorbate"]
    host = structure.copy()
    host.remove_sites([i for i, flag in enumerate(flags) if flag])
    return host


def endpoint_plan(follow: Plan) -> Plan:
    """Relaxations of the endpoints of every NEB in ``follow``; an endpoint shared by hops is one calculation."""
    plan = Plan(follow.spec, follow.engine)
    for request in follow.calcs.values():
        if request.task == "neb":
            plan.add(f"{request.label}:initial", "relax", request.structure)
            plan.add(f"{request.label}:final", "relax", request.final)
    return plan


def _relaxed_endpoint(plan: Plan, structure: Structure, endpoints: Calcs | None) -> tuple[Structure, float] | None:
    """The stored relaxation of an endpoint, if successful: its structure and energy."""
    key = CalcRequest(label="", task="relax", structure=structure).key(plan.engine)
    doc = endpoints.get(key, (None,))[0] if endpoints else None
    if doc is None or doc.state != "successful":
        return None
    return Structure.from_dict(doc.structure), doc.energy


def run_neb_task(request: CalcRequest, engine: Engine, folder: Path) -> dict:
    """Climbing-image NEB on ``engine``, after relaxing the endpoints unless the plan did."""
    settings = dict(request.settings)
    energies = settings.pop(RELAXED_ENDPOINTS, None)
    if energies:
        initial, final = request.structure, request.final
    else:
        (initial, final), energies = relaxed_endpoints(engine, request.structure, request.final, folder)
    outcome = engine_neb(engine, initial, final, energies, NebSettings(**settings), folder / "neb")
    saddle = outcome.barrier.saddle_image
    details = {**asdict(outcome.barrier), "images": [im.as_dict() for im in outcome.images],
               "image_energies": outcome.energies, "force_calls": outcome.force_calls, "method": outcome.method}
    return {"energy": outcome.energies[saddle], "converged": outcome.converged,
            "n_steps": outcome.force_calls, "structure": outcome.images[saddle].as_dict(),
            "energies": outcome.energies, "details": details, "code_version": outcome.code_version,
            "failure": None if outcome.converged else "NEB did not converge within max_steps"}


class BarrierDetails(BaseModel):
    """A NEB's barriers (eV), profile and images, as its calculation stored them."""

    model_config = ConfigDict(extra="allow")

    forward: float = Field(description="E_a, max_i E_i - E_initial")
    reverse: float = Field(description="max_i E_i - E_final")
    spline_forward: float | None = Field(None, description="from the cubic spline through the images")
    spline_reverse: float | None = None
    saddle_image: int
    path: list[float] = Field(description="cumulative path length of each image (Å)")
    energies: list[float] = Field(description="image energies relative to the initial image (eV)")
    spline: tuple[list[float], list[float]] | None = Field(None, description="(s, E) on the spline")
    images: list[dict] = Field(default_factory=list, description="every image (pymatgen dicts)")
    image_energies: list[float] = Field(default_factory=list, description="absolute image energies (eV)")
    force_calls: int | None = None
    method: str | None = None


def _derive(kind: RowKind, q: Quantity, calcs: Calcs, campaign: str) -> list[ResultRow]:
    details = BarrierDetails.model_validate(calcs[q.complex_key][0].details)
    return unreferenced_row(q, kind, details.forward, details, calcs, campaign)


KIND = RowKind(name="diffusion_barrier", unit="eV",
               definition="E_a = max_i E_i - E_initial (climbing-image NEB; reverse in details)", reference="none",
               derive=_derive, report=Section("Diffusion barriers (NEB)", "curves", "path", "energies",
                                              "path length (Å)", "E − E(initial) (eV)", spline=True),
               details=BarrierDetails)

PROPERTY = Property(name="diffusion_barrier", rows=(KIND,), description="NEB of every hop between sites of each "
                    "host (surfaces and galleries)", needs_energies=True, followup=_followup,
                    prepare=(ENDPOINT_STAGE, endpoint_plan), tasks={"neb": run_neb_task},
                    settings={"neb": (NebSettings, Field(NebSettings(fmax=0.1), description="how the paths are run"))})
