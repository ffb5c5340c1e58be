"""Expand a campaign spec into the calculations it needs and the quantities they give.

The plan is pure and deterministic: the same spec always gives the same calculations
(by calc_key) and the same quantities (by row identity), which is what makes a re-run
compute nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

from anodescreen.db.schema import AdsorbateInfo, HostInfo
from anodescreen.engines.base import Engine
from anodescreen.errors import AnodescreenError
from anodescreen.structures import (
    add_adsorbate,
    adsorption_sites,
    bilayer_graphene,
    bulk_metal,
    defective_graphene,
    gallery_sites,
    graphene,
    intercalated_bilayer,
    isolated_atom,
    sac_site,
)
from anodescreen.structures.compounds import COMPOUNDS, compound
from anodescreen.structures.data import nearest_neighbour_distance
from anodescreen.structures.graphene import supercell_name
from anodescreen.structures.heterostructure import graphene_mos2, metal_film_heterostructure
from anodescreen.structures.intercalation import metal_multilayer_bilayer
from anodescreen.structures.references import elemental_reference
from anodescreen.structures.sites import add_adsorbates, structure_label
from anodescreen.structures.slabs import metal_slab, sei_slab
from anodescreen.workflows.calcs import CalcRequest
from anodescreen.workflows.spec import (
    FOLLOWUPS,
    BilayerHosts,
    CampaignSpec,
    GrapheneHosts,
    HeterostructureHosts,
    SacHosts,
    SlabHosts,
)


@dataclass(frozen=True)
class Quantity:
    """A number to derive from stored calculations: which ones, and as what."""

    kind: str
    host: HostInfo
    adsorbate: AdsorbateInfo
    site: str | None
    region: str
    complex_key: str
    host_key: str
    reference_keys: dict[str, str]
    complex_label: str


#: quantities that take the alkali's chemical potential
ENERGY_KINDS = ("binding_energy", "intercalation_energy")


@dataclass
class Plan:
    """Calculations (by calc_key) and the quantities derived from them."""

    spec: CampaignSpec | None  # None: a Maker's plan (anodescreen.workflows.makers), outside any campaign
    engine: Engine
    calcs: dict[str, CalcRequest] = field(default_factory=dict)
    quantities: list[Quantity] = field(default_factory=list)
    hosts: list[tuple[_Host, str, str]] = field(default_factory=list)  # (host, adsorbate element, host calc_key)

    def energy_quantities(self) -> list[Quantity]:
        """One quantity per adsorbate complex: its binding or intercalation energy."""
        return [q for q in self.quantities if q.kind in ENERGY_KINDS]

    def add(self, label: str, task: str, structure: Structure, reference: bool = False, **extra) -> str:
        request = CalcRequest(label=label, task=task, structure=structure, reference=reference, **extra)
        key = request.key(self.engine)
        self.calcs.setdefault(key, request)
        return key


@dataclass(frozen=True)
class _Host:
    info: HostInfo
    structure: Structure  # what the adsorbate goes on / into
    reference: Structure  # the host energy is taken from this
    region: str
    centre: tuple[float, float] | None = None
    site_radius: float | None = None
    multilayer: Structure | None = None  # a whole metal film: one complex, no sites

    @property
    def kind(self) -> str:
        """Metal in a gallery or a film is intercalation; an adatom elsewhere is binding."""
        intercalated = self.multilayer is not None or self.info.family == "bilayer"
        return "intercalation_energy" if intercalated else "binding_energy"


def expand_hosts(spec: CampaignSpec, metal: str) -> list[_Host]:
    """Concrete hosts of the spec for adsorbate ``metal`` (bilayers depend on it)."""
    hosts: list[_Host] = []
    for entry in spec.hosts:
        if isinstance(entry, SacHosts):
            for m in entry.metals:
                for motif in entry.motifs:
                    s = sac_site(m, motif, entry.size, entry.min_image_distance, entry.vacuum, entry.bilayer)
                    size = s.properties["label"].split("(")[1].rstrip(")")
                    info = HostInfo(family="sac", label=s.properties["label"], metal=m, motif=motif,
                                    supercell=size)
                    hosts.append(_Host(info, s, s, "top", (0.5, 0.5), entry.site_radius))
        elif isinstance(entry, GrapheneHosts):
            for kind in entry.defects:
                s = graphene(entry.size, entry.vacuum) if kind == "pristine" else defective_graphene(
                    entry.size, kind, entry.vacuum)
                centre = None if kind == "pristine" else (0.5, 0.5)
                info = HostInfo(family="graphene", label=s.properties["label"],
                                supercell=supercell_name(entry.size))
                hosts.append(_Host(info, s, s, "top", centre))
        elif isinstance(entry, BilayerHosts):
            for stacking in entry.stackings:
                for layers in entry.layers:
                    hosts.append(_bilayer_host(entry, stacking, layers, metal))
        elif isinstance(entry, HeterostructureHosts):
            for phase in entry.phases:
                s = graphene_mos2(phase, entry.max_strain, entry.max_area, entry.match, vacuum=entry.vacuum)
                info = HostInfo(family="heterostructure", label=s.properties["label"], phase=phase)
                hosts += [_Host(info, s, s, region) for region in entry.regions]
                for layers in entry.films:
                    film = metal_film_heterostructure(metal, layers, phase, max_strain=entry.max_strain,
                                                      max_area=entry.max_area, match=entry.match,
                                                      vacuum=entry.vacuum)
                    pristine = graphene_mos2(phase, entry.max_strain, entry.max_area, entry.match,
                                             vacuum=entry.vacuum, repeat=film.properties["repeat"])
                    film_info = HostInfo(family="heterostructure", label=pristine.properties["label"],
                                         phase=phase)
                    hosts.append(_Host(film_info, pristine, pristine, "gallery", multilayer=film))
        elif isinstance(entry, SlabHosts):
            build = sei_slab if entry.material in COMPOUNDS else metal_slab
            s = build(entry.material, entry.miller, entry.layers, entry.size, entry.vacuum)
            info = HostInfo(family="slab", label=s.properties["label"], supercell="x".join(map(str, entry.size)))
            hosts.append(_Host(info, s, s, "top"))
    return hosts


def _bilayer_host(entry: BilayerHosts, stacking: str, layers: int, metal: str) -> _Host:
    if layers == 1:
        pristine = bilayer_graphene(entry.size, stacking, vacuum=entry.vacuum)
        info = HostInfo(family="bilayer", label=pristine.properties["label"], stacking=stacking,
                        supercell=supercell_name(entry.size))
        return _Host(info, pristine, pristine, "gallery")
    film = metal_multilayer_bilayer(metal, stacking, layers, entry.lattice, entry.max_strain,
                                    vacuum=entry.vacuum)
    matrix = np.array(film.properties["supercell_matrix"])
    pristine = bilayer_graphene(matrix, stacking, vacuum=entry.vacuum)
    info = HostInfo(family="bilayer", label=pristine.properties["label"], stacking=stacking,
                    supercell=supercell_name(matrix))
    return _Host(info, pristine, pristine, "gallery", multilayer=film)


def plan_campaign(spec: CampaignSpec, engine: Engine | None = None,
                  allowed: dict[tuple[str, str, str], set[str]] | None = None) -> Plan:
    """All calculations and quantities of ``spec``.

    ``allowed`` maps (host label, region, element) to the sites to keep (a funnel's choice);
    groups it does not name keep every site.
    """
    plan = Plan(spec, engine or spec.engine)
    if "formation_energy" in spec.calculations:
        for formula in spec.compounds:
            add_formation(plan, compound(formula))
    for adsorbate in spec.adsorbates if spec.hosts else []:  # alkali references only serve hosts
        metal = adsorbate.element
        refs = add_alkali_references(plan, metal, spec.references)
        for host in expand_hosts(spec, metal):
            kinds = _kinds(spec, host)
            if kinds:
                keep = (allowed or {}).get((host.info.label, host.region, metal))
                add_host(plan, host, metal, refs, kinds, _complexes(host, metal), keep)
    return plan


def add_alkali_references(plan: Plan, metal: str, references: list[str]) -> dict[str, str]:
    """The alkali's chemical-potential references (``bulk``: relaxed bcc/fcc/hcp metal; ``atom``: isolated)."""
    unknown = sorted(set(references) - {"bulk", "atom"})
    if unknown:
        raise AnodescreenError(f"unknown alkali reference(s) {', '.join(unknown)}: use bulk and/or atom", "references")
    refs = {}
    if "bulk" in references:
        bulk = bulk_metal(metal)
        refs["bulk"] = plan.add(bulk.properties["label"], "relax-cell", bulk, reference=True)
    if "atom" in references:
        atom = isolated_atom(metal)
        refs["atom"] = plan.add(atom.properties["label"], "static", atom, reference=True)
    return refs


def add_host(plan: Plan, host: _Host, metal: str, refs: dict[str, str], kinds: list[str],
             complexes: list[tuple[str, Structure]], keep: set[str] | None = None) -> None:
    """The host's relaxation, each complex's (``keep``: only these sites) and a quantity per complex and kind."""
    host_key = plan.add(host.info.label, "relax", host.reference)
    plan.hosts.append((host, metal, host_key))
    for label, structure in complexes:
        if keep is not None and label not in keep:
            continue
        key = plan.add(structure.properties["label"], "relax", structure)
        count = int(structure.composition[metal]) - int(host.reference.composition[metal])
        for kind in kinds:
            plan.quantities.append(Quantity(
                kind=kind, host=host.info, adsorbate=AdsorbateInfo(element=metal, count=count),
                site=label, region=host.region, complex_key=key, host_key=host_key,
                reference_keys=refs if kind in ENERGY_KINDS else {}, complex_label=structure.properties["label"],
            ))


def _kinds(spec: CampaignSpec, host: _Host) -> list[str]:
    """Quantities of ``host`` computed from its relaxed complexes; a follow-up alone still needs those."""
    kinds = [host.kind] if host.kind in spec.calculations else []
    if "sac_distortion" in spec.calculations and host.info.family == "sac":
        kinds.append("sac_distortion")
    if not kinds and any(k in spec.calculations for k in FOLLOWUPS):
        kinds = [host.kind]
    return kinds


def plan_followups(plan: Plan, calcs: dict, endpoints: dict | None = None) -> Plan:
    """NEB paths and charge analyses built on the stored relaxations of ``plan`` (``calcs``: stored_calcs).

    diffusion_barrier: every hop between sites of each host's region, endpoints placed on the
    relaxed host (in a gallery: on the most favourable relaxed complex without its metal, so
    the gap is the one the metal opened). ``endpoints`` (stored_calcs of :func:`endpoint_plan`):
    the endpoints' own relaxations, each done once however many hops share it; a NEB whose
    endpoints are there starts from them, else it relaxes its endpoints itself. bader_charge: the most favourable
    relaxed complex of each host × adsorbate (what papers report), with its Δρ(z) as a
    charge_depletion row.
    """
    from anodescreen.structures.paths import diffusion_hops

    spec = plan.spec
    follow = Plan(spec, plan.engine)

    def done(key: str) -> bool:
        return key in calcs and calcs[key][0].state == "successful"

    def relaxed(key: str) -> Structure | None:
        return Structure.from_dict(calcs[key][0].structure) if done(key) else None

    def ranked(host: _Host, metal: str) -> list[Quantity]:
        """The relaxed single-site complexes of host × metal, most favourable first."""
        mine = {q.complex_key: q for q in plan.quantities if q.host == host.info and q.site is not None
                and q.adsorbate.element == metal and done(q.complex_key)}
        return sorted(mine.values(), key=lambda q: (calcs[q.complex_key][0].energy, q.site or ""))

    def best(host: _Host, metal: str) -> Quantity | None:
        return next(iter(ranked(host, metal)), None)

    for host, metal, host_key in plan.hosts:
        if "diffusion_barrier" in spec.calculations and host.multilayer is None:
            # hops from the ideal geometry (its symmetry), endpoints on the relaxed one; in a
            # gallery both are the best complex without its metal: the gap the metal opened
            ideal, base = host.structure, relaxed(host_key)
            if host.region == "gallery":
                lowest = best(host, metal)
                doc = calcs[lowest.complex_key][0] if lowest else None
                ideal = _without_adsorbate(Structure.from_dict(doc.input_structure), doc) if doc else None
                base = _without_adsorbate(relaxed(lowest.complex_key), doc) if doc else None
            hops = diffusion_hops(ideal, host.region, host.centre, host.site_radius) if base else []
            for hop in hops:
                label = f"{host.info.label}/{metal}:{hop.label}"
                ends = [add_adsorbate(base, metal, hop.start), add_adsorbate(base, metal, hop.end)]
                settings = spec.neb.model_dump()
                relaxed_ends = [_relaxed_endpoint(follow, end, endpoints) for end in ends]
                if all(relaxed_ends):
                    ends = [structure for structure, _ in relaxed_ends]
                    settings |= {RELAXED_ENDPOINTS: [energy for _, energy in relaxed_ends]}
                key = follow.add(label, "neb", ends[0], final=ends[1], settings=settings)
                follow.quantities.append(Quantity(
                    kind="diffusion_barrier", host=host.info, adsorbate=AdsorbateInfo(element=metal), site=hop.label,
                    region=host.region, complex_key=key, host_key=key, reference_keys={}, complex_label=label))
        if "sac_distortion" in spec.calculations and host.info.family == "sac" and done(host_key):
            _plan_loading(follow, host, metal, host_key, ranked(host, metal), spec.sac_loading)
        if "bader_charge" in spec.calculations:
            lowest = best(host, metal)
            if lowest is None:
                continue
            doc = calcs[lowest.complex_key][0]
            structure = relaxed(lowest.complex_key)
            structure.add_site_property("adsorbate", Structure.from_dict(doc.input_structure)
                                        .site_properties["adsorbate"])
            label = f"{lowest.complex_label}:charges"
            key = follow.add(label, "charges", structure, settings={"metal": host.info.metal})
            for kind in ("bader_charge", "charge_depletion"):
                follow.quantities.append(Quantity(
                    kind=kind, host=host.info, adsorbate=lowest.adsorbate, site=lowest.site, region=host.region,
                    complex_key=key, host_key=key, reference_keys={}, complex_label=label))
    return follow


#: NEB settings key: the endpoints are already relaxed (by the endpoint stage); value: their energies
RELAXED_ENDPOINTS = "relaxed_endpoints"


def endpoint_plan(follow: Plan) -> Plan:
    """Relaxations of the endpoints of every NEB in ``follow``; an endpoint shared by hops is one calculation."""
    plan = Plan(follow.spec, follow.engine)
    for request in follow.calcs.values():
        if request.task == "neb":
            plan.add(f"{request.label}:initial", "relax", request.structure)
            plan.add(f"{request.label}:final", "relax", request.final)
    return plan


def _relaxed_endpoint(plan: Plan, structure: Structure, endpoints: dict | None) -> tuple[Structure, float] | None:
    """The stored relaxation of an endpoint, if successful: its structure and energy."""
    key = CalcRequest(label="", task="relax", structure=structure).key(plan.engine)
    doc = endpoints.get(key, (None,))[0] if endpoints else None
    if doc is None or doc.state != "successful":
        return None
    return Structure.from_dict(doc.structure), doc.energy


def _plan_loading(follow: Plan, host: _Host, metal: str, host_key: str, ranked: list[Quantity],
                  counts: list[int]) -> None:
    """SAC distortion with n > 1 alkali atoms on n copies of one site around the metal, at least
    0.8 × the bulk metal's nearest-neighbour distance apart: the most favourable computed
    single-atom site that allows it, else the site nearest the metal that does."""
    nearest = adsorption_sites(host.structure, host.region, host.centre)  # ordered by distance to the metal
    computed = [q.site for q in ranked]
    order = computed + [s.label for s in nearest if s.label not in computed]
    sites = {s.label: s for s in nearest}
    separation = 0.8 * nearest_neighbour_distance(metal)
    for n in (n for n in counts if n > 1):
        for label in order:
            try:
                structure = add_adsorbates(host.structure, metal, sites[label], n, host.centre, separation)
            except AnodescreenError:
                continue
            key = follow.add(structure.properties["label"], "relax", structure)
            follow.quantities.append(Quantity(
                kind="sac_distortion", host=host.info, adsorbate=AdsorbateInfo(element=metal, count=n), site=label,
                region=host.region, complex_key=key, host_key=host_key, reference_keys={},
                complex_label=structure.properties["label"]))
            break


def _without_adsorbate(structure: Structure, doc) -> Structure:
    """A relaxed complex with its adsorbate atoms removed (flagged in the calculation's input)."""
    flags = Structure.from_dict(doc.input_structure).site_properties["adsorbate"]
    host = structure.copy()
    host.remove_sites([i for i, flag in enumerate(flags) if flag])
    return host


def add_formation(plan: Plan, s: Structure) -> None:
    """A compound and the ground state of each of its elements, relaxed at the same theory."""
    label = structure_label(s)
    key = plan.add(label, "relax-cell", s)
    refs = {}
    for el in sorted({e.symbol for e in s.composition}):
        ref = elemental_reference(el)
        molecule = ref.properties["label"].endswith("-dimer")  # a dimer in a box keeps its box
        refs[el] = plan.add(ref.properties["label"], "relax" if molecule else "relax-cell", ref, reference=True)
    cation = min(s.composition, key=lambda e: e.X)
    plan.quantities.append(Quantity(
        kind="formation_energy", host=HostInfo(family="compound", label=label),
        adsorbate=AdsorbateInfo(element=cation.symbol, count=int(s.composition[cation])), site=None,
        region="bulk", complex_key=key, host_key=key, reference_keys=refs, complex_label=label))


def _complexes(host: _Host, metal: str) -> list[tuple[str, Structure]]:
    """(site label, host + metal) for every symmetry-unique site of the host."""
    if host.multilayer is not None:
        film = host.multilayer
        return [(f"{film.properties['lattice']}-{film.properties['layers']}L", film)]
    if host.region == "gallery" and host.info.family == "bilayer":
        stacking, size = host.info.stacking, host.info.supercell
        return [(s.label, intercalated_bilayer(metal, stacking, size, site=s.label))
                for s in gallery_sites(metal, stacking, size)]
    sites = adsorption_sites(host.structure, host.region, host.centre, host.site_radius)
    return [(s.label, add_adsorbate(host.structure, metal, s)) for s in sites]
