"""Symmetry-unique adsorption and intercalation sites, their labels, and placement.

Candidates come from the atoms of one sheet projected on the plane: *top* sites over
atoms, *bridge* sites at the midpoints of bonded pairs, and *hollow* sites at the
centroids of the rings (Delaunay triangles merged across non-bonded edges: the hexagon
centres of graphene, each triangle of a close-packed metal). They are then
reduced with the host's space-group operations (spglib at ``SYMPREC``), so symmetry-
equivalent sites collapse to one. ``region="top"`` finds sites above the uppermost
sheet, ``region="bottom"`` below the lowest; ``region="gallery"`` finds sites in the mid-plane of the widest interlayer gap
(intercalation), classified against both neighbouring sheets (``hollow-top`` means
hollow of the lower, top of the upper sheet). Labels name the site (``hollow``,
``metal-top``, ``N-top``, ``C-N-bridge``, ``Mo-hollow`` for a hollow over an atom of
the next layer) and add ``#k`` where inequivalent sites share
a name, ordered by distance from ``centre`` (default: the cell origin).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Element, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from scipy.spatial import Delaunay

from anodescreen.errors import AnodescreenError
from anodescreen.structures._geometry import MIN_DISTANCE, canonical
from anodescreen.structures.data import ALKALI, check_alkali, covalent_radius, has_moments

SYMPREC = 0.01
#: Atoms within this height (Å) of a sheet's extreme belong to that sheet.
SHEET_DEPTH = 1.5
#: In-plane pairs are bonded when closer than this factor times the larger of their two
#: nearest-neighbour distances (first coordination shell; independent of atomic radii,
#: so every metal in the same pocket gets the same sites).
SHELL_FACTOR = 1.15
#: Adsorbate–host distance target, as a factor of the covalent-radius sum.
CONTACT_FACTOR = 1.05
_SAME = 0.05  # Å: two candidate positions closer than this are one site
_TOP = 0.3  # Å: a position this close to an atom is over it


@dataclass(frozen=True)
class Site:
    """A symmetry-unique site: its label, kind and position (fractional, in the plane)."""

    label: str
    kind: str
    region: str
    frac_xy: tuple[float, float]
    z: float  # Cartesian height of the plane the site lies in (Å), before placement


def adsorption_sites(
    host: Structure,
    region: str = "top",
    centre: tuple[float, float] | None = None,
    max_distance: float | None = None,
) -> list[Site]:
    """Symmetry-unique sites of ``host``, ordered by label.

    Parameters
    ----------
    host
        A 2D host with vacuum along c (sheet, bilayer, slab).
    region
        ``"top"`` (above the uppermost sheet), ``"bottom"`` (below the lowest) or
        ``"gallery"`` (between two sheets).
    centre
        Fractional in-plane point that site distances are measured from (e.g. a SAC
        metal); the cell origin by default.
    max_distance
        Keep only sites within this in-plane distance (Å) of ``centre``.
    """
    sheets = _sheets(host, region)
    centre_xy = np.array(centre if centre is not None else (0.0, 0.0), dtype=float)
    candidates = []
    for sheet in sheets:
        candidates += _candidates(host, sheet)
    if max_distance is not None:
        near = _plane_distances(host, centre_xy, np.array(candidates)) <= max_distance + 1e-6
        candidates = [c for c, keep in zip(candidates, near) if keep]
    frac = _unique_positions(host, candidates)
    z = _plane_height(host, region, sheets)
    frac.sort(key=lambda f: (round(_plane_distance(host, f, centre_xy), 4), round(f[1], 6), round(f[0], 6)))
    representatives = _symmetry_reduce(host, frac, z)
    named = [(_classify(host, f, sheets), f) for f in representatives]
    counts: dict[str, int] = {}
    for name, _ in named:
        counts[name[1]] = counts.get(name[1], 0) + 1
    seen: dict[str, int] = {}
    sites = []
    for (kind, name), f in named:
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            name = f"{name}#{seen[name]}"
        sites.append(Site(name, kind, region, (round(float(f[0]), 10), round(float(f[1]), 10)), z))
    return sites


def structure_label(structure: Structure) -> str:
    """The structure's label (builders set one), else its reduced formula."""
    return structure.properties.get("label") or structure.composition.reduced_formula


def add_adsorbate(host: Structure, element: str, site: Site) -> Structure:
    """``host`` with one ``element`` atom on ``site``.

    On the top (bottom) region the atom is lowered (raised) until it touches the first
    host atom at 1.05 × the sum of covalent radii; in a gallery it sits in the mid-plane.
    The label becomes ``<host label>/<element>@<site label>`` and the new atom carries the
    site property ``adsorbate=True``.
    """
    check_alkali(element, "adsorbate")
    label = structure_label(host)
    return _place(host, element, site, [np.array(site.frac_xy)], f"{label}/{element}@{site.label}")


def add_adsorbates(host: Structure, element: str, site: Site, count: int,
                   centre: tuple[float, float] | None = None, min_separation: float = 0.0) -> Structure:
    """``host`` with ``count`` ``element`` atoms on symmetry copies of ``site``, far apart.

    The copies are the site's images under the host's symmetry; with ``centre`` only those
    at the site's own in-plane distance from it (the ring around a SAC metal). The first
    atom sits on ``site``; each next one on the copy farthest from those already placed.
    Placements with two atoms closer than ``min_separation`` (Å, in plane) are refused.
    """
    check_alkali(element, "adsorbate")
    copies = _orbit(host, np.array(site.frac_xy), site.z)
    if centre is not None:
        ring = _plane_distances(host, np.array(centre), copies)
        copies = copies[np.abs(ring - ring[0]) < _SAME]
    if count > len(copies):
        raise AnodescreenError(f"site {site.label} has {len(copies)} equivalent copies here, fewer than {count}",
                               "count")
    chosen = [0]
    while len(chosen) < count:
        gaps = [_plane_distances(host, c, copies[chosen]).min() if i not in chosen else -1.0
                for i, c in enumerate(copies)]
        if max(gaps) < min_separation:
            raise AnodescreenError(f"{count} {element} on copies of {site.label} would be closer than "
                                   f"{min_separation:.2f} Å", "count")
        chosen.append(int(np.argmax(gaps)))
    label = structure_label(host)
    return _place(host, element, site, [copies[i] for i in chosen], f"{label}/{element}{count}@{site.label}")


def _place(host: Structure, element: str, site: Site, positions: list[np.ndarray], label: str) -> Structure:
    """``host`` with ``element`` at in-plane ``positions`` of ``site``'s region.

    Heights are set against the bare host, so adsorbates never stack on each other.
    """
    structure = host.copy()
    structure.add_site_property("adsorbate", [False] * len(host))
    props = {key: 0.0 for key in structure.site_properties} | {"adsorbate": True}
    if has_moments(host):
        props["magmom"] = 1.0  # the alkali's unpaired electron may couple to the host's moments
    for frac_xy in positions:
        if site.region == "gallery":
            z = site.z
        else:
            z = _contact_height(host, element, frac_xy, -1.0 if site.region == "bottom" else 1.0)
        cart = host.lattice.get_cartesian_coords([*frac_xy, 0.0])
        cart[2] = z
        structure.append(element, cart, coords_are_cartesian=True, properties=props)
        d = min(structure.get_distance(len(structure) - 1, i) for i in range(len(host)))
        if d < MIN_DISTANCE:
            raise AnodescreenError(f"{element} on {site.label} is only {d:.2f} Å from the host", "site")
    structure.properties = {**host.properties, "label": label}
    return canonical(structure)


def cover(host: Structure, element: str, site: Site, coverage: float = 1.0) -> Structure:
    """``host`` with ``element`` on a fraction ``coverage`` of the copies of ``site``.

    The copies are the site's symmetry orbit in the cell; ``round(coverage × copies)`` of
    them are taken by farthest-point selection from the representative (ties broken by
    position), so the adsorbates are spread as evenly as the cell allows. Raises if the
    cell holds no copy at that coverage or if two adsorbates would sit closer than twice
    the covalent radius. The label ends in ``@<site>/<coverage>ML``.
    """
    check_alkali(element, "adsorbate")
    orbit = _orbit(host, np.array(site.frac_xy), site.z)
    n = int(round(coverage * len(orbit)))
    if not 0 < coverage <= 1 or n < 1:
        raise AnodescreenError(
            f"coverage {coverage} of {len(orbit)} {site.label} sites places no atom; use a larger supercell",
            "coverage")
    chosen = [0]
    while len(chosen) < n:
        gaps = [min(_plane_distance(host, orbit[i], orbit[j]) for j in chosen) for i in range(len(orbit))]
        chosen.append(max((i for i in range(len(orbit)) if i not in chosen), key=lambda i: (round(gaps[i], 6), -i)))
    positions = orbit[chosen]
    if n > 1:
        closest = min(_plane_distance(host, a, b) for k, a in enumerate(positions) for b in positions[k + 1:])
        if closest < 2 * covalent_radius(element):
            raise AnodescreenError(f"{n} {element} on {site.label} would be {closest:.2f} Å apart", "coverage")
    label = structure_label(host)
    return _place(host, element, site, list(positions), f"{label}/{element}@{site.label}/{round(n / len(orbit), 4)}ML")


def _orbit(host: Structure, frac_xy: np.ndarray, z: float) -> np.ndarray:
    """In-plane copies of a site under the host's symmetry, representative first."""
    copies = [np.mod(frac_xy, 1.0)]
    for image in _plane_images(host, _operations(host), frac_xy, z):
        image = np.mod(np.round(image, 10), 1.0)
        if _plane_distances(host, image, np.array(copies)).min() > _SAME:
            copies.append(image)
    rest = sorted(copies[1:], key=lambda f: (round(f[1], 6), round(f[0], 6)))
    return np.array([copies[0], *rest])


def _operations(host: Structure) -> list:
    """The host's symmetry operations (fractional; spglib at ``SYMPREC``)."""
    return SpacegroupAnalyzer(host, symprec=SYMPREC).get_symmetry_operations(cartesian=False)


def _plane_images(host: Structure, ops: list, frac_xy, z: float) -> np.ndarray:
    """Fractional in-plane images of a point at height ``z`` under the operations ``ops``
    that keep it in its plane."""
    zf = z / host.lattice.c
    images = np.array([op.operate([frac_xy[0], frac_xy[1], zf]) for op in ops])
    in_plane = np.abs(((images[:, 2] - zf + 0.5) % 1.0) - 0.5) * host.lattice.c < _SAME
    return images[in_plane, :2]


def site_of(structure: Structure, index: int, region: str = "top") -> str:
    """Name of the site the atom ``index`` sits on, without symmetry numbering."""
    host = structure.copy()
    host.remove_sites([index])
    frac = structure[index].frac_coords
    return _classify(host, frac[:2], _sheets(host, region))[1]


# --- sheets and candidate positions -------------------------------------------------


def _sheets(host: Structure, region: str) -> list[np.ndarray]:
    """Indices of the atoms forming the sheet(s) that bound ``region``."""
    z = host.cart_coords[:, 2]
    if region == "top":
        return [np.flatnonzero(z >= z.max() - SHEET_DEPTH)]
    if region == "bottom":
        return [np.flatnonzero(z <= z.min() + SHEET_DEPTH)]
    if region != "gallery":
        raise AnodescreenError(f"unknown region {region!r} (use top, bottom or gallery)", "region")
    order = np.sort(z)
    gaps = np.diff(order)
    if len(gaps) == 0 or gaps.max() < 2.5:
        raise AnodescreenError("host has no interlayer gallery (needs two sheets)", "host")
    k = int(np.argmax(gaps))
    low, high = order[k], order[k + 1]
    return [
        np.flatnonzero((z <= low + 1e-6) & (z >= low - SHEET_DEPTH)),
        np.flatnonzero((z >= high - 1e-6) & (z <= high + SHEET_DEPTH)),
    ]


def _plane_height(host: Structure, region: str, sheets: list[np.ndarray]) -> float:
    z = host.cart_coords[:, 2]
    if region == "gallery":
        return float((z[sheets[0]].max() + z[sheets[1]].min()) / 2)
    return float(z[sheets[0]].min() if region == "bottom" else z[sheets[0]].max())


def _tiled(host: Structure, indices: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Cartesian in-plane positions of the sheet atoms and their 8 periodic neighbours."""
    m = host.lattice.matrix[:2, :2]
    points, owners = [], []
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            for k in indices:
                f = np.mod(host[k].frac_coords[:2], 1.0) + [i, j]
                points.append(f @ m)
                owners.append(int(k))
    return np.array(points), owners


def _candidates(host: Structure, sheet: np.ndarray) -> list[np.ndarray]:
    """Fractional in-plane positions of top, bridge and hollow candidates of a sheet.

    Delaunay triangles that share a non-bonded edge lie in the same ring, so they are
    merged and the ring's hollow is the centroid of its atoms (the hexagon centre in
    graphene, each triangle's centre on a close-packed metal).
    """
    inv = np.linalg.inv(host.lattice.matrix[:2, :2])
    points, _ = _tiled(host, sheet)
    out = [np.mod(host[k].frac_coords[:2], 1.0) for k in sheet]
    bond = _bonds(points)
    for a, b in zip(*np.nonzero(np.triu(bond, k=1))):
        out.append(((points[a] + points[b]) / 2) @ inv)
    triangles = Delaunay(points).simplices
    parent = list(range(len(triangles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_edge: dict[tuple[int, int], int] = {}
    for t, tri in enumerate(triangles):
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[0], tri[2])):
            edge = (min(a, b), max(a, b))
            if edge in by_edge and not bond[edge]:
                parent[root(t)] = root(by_edge[edge])
            by_edge[edge] = t
    rings: dict[int, set[int]] = {}
    for t, tri in enumerate(triangles):
        rings.setdefault(root(t), set()).update(int(v) for v in tri)
    for members in rings.values():
        centroid = points[sorted(members)].mean(axis=0) @ inv
        if np.all((centroid > -1e-6) & (centroid < 1 - 1e-6)):  # rings at the tiling edge are open
            out.append(centroid)
    return [np.mod(np.round(o, 10), 1.0) for o in out]


def _bonds(points: np.ndarray) -> np.ndarray:
    """Boolean matrix of first-shell bonds between in-plane points."""
    dist = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    np.fill_diagonal(dist, np.inf)
    nearest = dist.min(axis=1)
    return dist <= SHELL_FACTOR * np.maximum(nearest[:, None], nearest[None, :]) + 1e-6


def _plane_distances(host: Structure, f, others: np.ndarray) -> np.ndarray:
    """Minimum-image in-plane distances (Å) from fractional ``f`` to each of ``others``."""
    m = host.lattice.matrix[:2, :2]
    df = np.atleast_2d(np.asarray(others, dtype=float)[..., :2]) - np.asarray(f, dtype=float)[:2]
    df -= np.round(df)
    shifts = np.array([[i, j] for i in (-1, 0, 1) for j in (-1, 0, 1)], dtype=float)
    v = (df[:, None, :] + shifts[None, :, :]) @ m
    return np.sqrt((v**2).sum(-1)).min(axis=1)


def _plane_distance(host: Structure, f1, f2) -> float:
    return float(_plane_distances(host, f1, np.asarray(f2)[None, :2])[0])


def _unique_positions(host: Structure, frac: list[np.ndarray]) -> list[np.ndarray]:
    unique: list[np.ndarray] = []
    for f in sorted(frac, key=lambda x: (round(x[1], 6), round(x[0], 6))):
        if not unique or _plane_distances(host, f, np.array(unique)).min() > _SAME:
            unique.append(np.array(f))
    return unique


def _symmetry_reduce(host: Structure, frac: list[np.ndarray], z: float) -> list[np.ndarray]:
    """First member of each symmetry orbit, in the given order."""
    ops = _operations(host)
    kept: list[np.ndarray] = []
    for f in frac:
        if kept and any(_plane_distances(host, im, np.array(kept)).min() < _SAME
                        for im in _plane_images(host, ops, f, z)):
            continue
        kept.append(f)
    return kept


# --- naming and placement -----------------------------------------------------------


def _classify(host: Structure, frac_xy, sheets: list[np.ndarray]) -> tuple[str, str]:
    """(kind, name) of an in-plane position relative to the bounding sheet(s)."""
    # in a gallery the other sheet already names what lies over a hollow
    parts = [_classify_sheet(host, frac_xy, sheet, beneath=len(sheets) == 1) for sheet in sheets]
    kinds = [p[0] for p in parts]
    names = [p[1] for p in parts]
    if len(parts) == 1 or names[0] == names[1]:
        return kinds[0], names[0]
    return "-".join(kinds), "-".join(names)


def _classify_sheet(host: Structure, frac_xy, sheet: np.ndarray, beneath: bool = True) -> tuple[str, str]:
    d = _plane_distances(host, frac_xy, host.frac_coords[sheet])
    order = np.lexsort((np.arange(len(sheet)), np.round(d, 8)))
    (d1, d2), (k1, k2) = d[order[:2]], sheet[order[:2]]
    e1, e2 = host[k1].species_string, host[k2].species_string
    single = len({host[k].species_string for k in sheet}) == 1
    if d1 < _TOP:
        if single:
            return "top", "top"
        return "top", "metal-top" if _is_centre_metal(e1) else f"{e1}-top"
    pair = _plane_distance(host, host[k1].frac_coords, host[k2].frac_coords)
    bonded = pair <= SHELL_FACTOR * max(_nearest(host, sheet, k1), _nearest(host, sheet, k2)) + 1e-6
    if bonded and abs(d1 - d2) < _TOP and abs(d1 + d2 - pair) < _TOP:
        if single:
            return "bridge", "bridge"
        ends = sorted("metal" if _is_centre_metal(e) else e for e in (e1, e2))
        return "bridge", "-".join(ends) + "-bridge"
    below = _atom_beneath(host, frac_xy, sheet) if beneath else None
    return "hollow", f"{below}-hollow" if below else "hollow"


def _atom_beneath(host: Structure, frac_xy, sheet: np.ndarray) -> str | None:
    """Element of an atom of the next layer directly under (or over) a point of a sheet."""
    others = np.setdiff1d(np.arange(len(host)), sheet)
    if len(others) == 0:
        return None
    z = host.cart_coords[:, 2]
    gap = np.abs(z[others] - z[sheet].mean())
    next_layer = others[gap < gap.min() + 0.5]
    close = next_layer[_plane_distances(host, frac_xy, host.frac_coords[next_layer]) < _TOP]
    return host[close[0]].species_string if len(close) else None


def _nearest(host: Structure, sheet: np.ndarray, k: int) -> float:
    """In-plane nearest-neighbour distance of sheet atom ``k``."""
    d = _plane_distances(host, host[k].frac_coords, host.frac_coords[sheet])
    return float(d[d > 1e-6].min())


def _is_centre_metal(symbol: str) -> bool:
    return Element(symbol).is_metal and symbol not in ALKALI


def _contact_height(host: Structure, element: str, frac_xy: np.ndarray, sign: float = 1.0) -> float:
    """Height nearest the outer sheet (above for ``sign`` +1, below for -1) at which
    ``element`` touches no host atom closer than the contact distance."""
    z = sign * host.cart_coords[:, 2]
    d0 = CONTACT_FACTOR * (covalent_radius(element) + np.array([covalent_radius(s.species_string) for s in host]))
    rho = _plane_distances(host, frac_xy, host.frac_coords)
    touching = rho < d0
    lift = z[touching] + np.sqrt(d0[touching] ** 2 - rho[touching] ** 2)
    return sign * float(max(z.max() + 1.0, *lift))
