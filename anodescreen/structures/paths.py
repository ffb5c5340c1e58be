"""Diffusion hops of one adatom between neighbouring sites of a host.

A hop joins a symmetry-unique start site to the nearest copies of a site (its own kind or
another); hops that a symmetry operation of the host maps onto each other (either way
round) are one hop. A midpoint that is itself a site is named (``bridge`` between two
graphene hollows), so a label reads ``hollow→hollow via bridge``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure

from anodescreen.errors import AnodescreenError
from anodescreen.structures.sites import (
    _SAME,
    Site,
    _classify,
    _operations,
    _orbit,
    _plane_distances,
    _sheets,
    adsorption_sites,
)


@dataclass(frozen=True)
class Hop:
    """One diffusion hop: start site, end point (unwrapped, fractional) and its length."""

    label: str
    start: Site
    end: Site
    length: float  # Å, in plane
    via: str | None  # name of the site at the midpoint, if a site is there


def diffusion_hops(host: Structure, region: str = "top", centre: tuple[float, float] | None = None,
                   max_distance: float | None = None, max_length: float = 3.5) -> list[Hop]:
    """Symmetry-distinct hops between nearest-neighbour sites of ``host`` in ``region``.

    For every pair of unique sites (a, b) the hop goes from a to the nearest copies of b
    (within ``max_length`` Å); copies related by an operation that fixes a are one hop,
    and a→b equals b→a. ``centre``/``max_distance`` restrict both ends as in
    :func:`~anodescreen.structures.sites.adsorption_sites` (e.g. around a SAC metal).
    """
    sites = adsorption_sites(host, region, centre, max_distance)
    if not sites:
        raise AnodescreenError(f"no sites in region {region!r}", "region")
    ops = _operations(host)
    orbits = {s.label: _orbit(host, np.array(s.frac_xy), s.z) for s in sites}
    copies = np.concatenate(list(orbits.values()))
    centre_xy = np.array(centre if centre is not None else (0.0, 0.0))
    hops: list[Hop] = []
    for i, a in enumerate(sites):
        start = np.array(a.frac_xy)
        for b in sites[i:]:
            ends = _nearest_copies(host, start, orbits[b.label], max_length)
            if max_distance is not None and len(ends):
                ends = ends[_plane_distances(host, centre_xy, ends) <= max_distance + 1e-6]
            for end in _distinct(host, ops, start, ends, a.z):
                if any(_same_hop(host, ops, h, a, b, start, end) for h in hops):
                    continue
                middle = (start + end) / 2
                on_site = _plane_distances(host, middle, copies).min() < _SAME
                via = _classify(host, middle, _sheets(host, region))[1] if on_site else None
                length = float(np.linalg.norm(host.lattice.get_cartesian_coords([*(end - start), 0.0])))
                hops.append(Hop("", a, Site(b.label, b.kind, region, tuple(end), b.z), round(length, 4), via))
    return _labelled(hops)


def _nearest_copies(host: Structure, start: np.ndarray, copies: np.ndarray, max_length: float) -> np.ndarray:
    """Unwrapped end points of the nearest of a site's in-cell ``copies`` from ``start`` (not start itself)."""
    shifts = np.array([[i, j] for i in (-1, 0, 1) for j in (-1, 0, 1)], dtype=float)
    ends = (copies[:, None, :] + shifts[None, :, :]).reshape(-1, 2)
    lengths = np.linalg.norm((ends - start) @ host.lattice.matrix[:2, :2], axis=1)
    keep = lengths > _SAME
    ends, lengths = ends[keep], lengths[keep]
    if not len(lengths) or lengths.min() > max_length:
        return np.empty((0, 2))
    return ends[lengths < lengths.min() + _SAME]


def _distinct(host: Structure, ops: list, start: np.ndarray, ends: np.ndarray, z: float) -> list[np.ndarray]:
    """One end point per orbit under the operations that keep ``start`` in place."""
    zf = z / host.lattice.c
    kept: list[np.ndarray] = []
    for end in ends:
        if not any(_maps(host, op, start, end, start, k, zf) for op in ops for k in kept):
            kept.append(end)
    return kept


def _maps(host: Structure, op, p, q, s0, e0, zf: float) -> bool:
    """Whether ``op`` maps the hop p→q onto s0→e0, up to a lattice translation."""
    ip, iq = op.operate([*p, zf]), op.operate([*q, zf])
    if abs(((ip[2] - zf + 0.5) % 1) - 0.5) * host.lattice.c > _SAME:
        return False
    shift = np.round(np.asarray(s0) - ip[:2])
    ip, iq = ip[:2] + shift, iq[:2] + shift
    cart = host.lattice.matrix[:2, :2]
    return bool(np.linalg.norm((ip - s0) @ cart) < _SAME
                and np.linalg.norm((iq - ip - (np.asarray(e0) - s0)) @ cart) < _SAME)


def _same_hop(host: Structure, ops: list, hop: Hop, a: Site, b: Site, start, end) -> bool:
    """Whether (start→end) is ``hop`` under some operation, either way round."""
    if {hop.start.label, hop.end.label} != {a.label, b.label}:
        return False
    zf = a.z / host.lattice.c
    s0, e0 = np.array(hop.start.frac_xy), np.array(hop.end.frac_xy)
    return any(_maps(host, op, p, q, s0, e0, zf) for p, q in ((start, end), (end, start)) for op in ops)


def _labelled(hops: list[Hop]) -> list[Hop]:
    names = [f"{h.start.label}→{h.end.label}" + (f" via {h.via}" if h.via else "") for h in hops]
    out = []
    for hop, name in zip(hops, names):
        if names.count(name) > 1:
            name = f"{name} #{names[:len(out) + 1].count(name)}"
        out.append(Hop(name, hop.start, hop.end, hop.length, hop.via))
    return out
