"""One self-contained HTML page of stored results, with its figures inline as SVG.

Sections: what is stored (rows per kind, levels of theory); then one per :class:`Section`
the row kinds name (``anodescreen.properties.report_sections``): best energy per host ×
adsorbate as heat maps with the best-site table (``energies``), or curves from two lists
in each row's details (``curves``: NEB profiles, Δρ(z)); last, parity of computed vs
literature values for rows whose ``details["literature"]`` lists targets (written by
``anodescreen reproduce``).
Rows of different levels of theory are never drawn in one heat map. The page needs no
network and no scripts.
"""

from __future__ import annotations

import html
import io
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from maggma.core import Store

from anodescreen.db.queries import build_filter
from anodescreen.db.schema import now
from anodescreen.db.stores import refuse_store_file



@dataclass(frozen=True)
class Section:
    """A report section: ``energies`` (heat maps of the best value per host × adsorbate) or ``curves``
    (``details[x]`` against ``details[y]`` of each row, ``spline``: also ``details["spline"]``)."""

    title: str
    style: Literal["energies", "curves"]
    x: str = ""
    y: str = ""
    xlabel: str = ""
    ylabel: str = ""
    spline: bool = False


#: the section every energy kind shares
ENERGIES = Section("Energies", "energies")
FIELDS = ["row_id", "kind", "value", "unit", "reference", "host.label", "adsorbate", "site", "final_site",
          "level_of_theory", "lot_key", "is_dft", "details", "campaigns", "definition"]
STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:2px 8px;text-align:left}
td.num{text-align:right;font-family:monospace}figure{margin:1em 0}figcaption{font-size:90%;color:#555}
.note{color:#777}"""


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _figure(fig, caption: str) -> str:
    return f"<figure>{_svg(fig)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _table(header: list[str], rows: list[list], numeric: tuple[int, ...] = ()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f"<td class='num'>{html.escape(str(c))}</td>" if i in numeric else f"<td>{html.escape(str(c))}</td>"
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _theory(doc: dict) -> str:
    lot = doc["level_of_theory"]
    text = f"{lot['engine']} {lot['method']}" + (f"+{lot['vdw']}" if lot.get("vdw") else "")
    return text + ("" if doc["is_dft"] else " (MLIP: ranks only)")


def _energy_section(docs: list[dict]) -> str:
    import matplotlib.pyplot as plt
    import numpy as np

    groups: dict[tuple, dict[tuple[str, str], dict]] = defaultdict(dict)
    for d in docs:
        key = (d["kind"], d["reference"], d["lot_key"])
        cell = (d["host"]["label"], d["adsorbate"]["element"])
        if cell not in groups[key] or d["value"] < groups[key][cell]["value"]:
            groups[key][cell] = d
    parts = []
    for (kind, reference, _), best in sorted(groups.items()):
        theory = _theory(next(iter(best.values())))
        hosts = sorted({h for h, _ in best})
        elements = sorted({e for _, e in best})
        grid = np.full((len(hosts), len(elements)), np.nan)
        for (h, e), d in best.items():
            grid[hosts.index(h), elements.index(e)] = d["value"]
        fig, ax = plt.subplots(figsize=(1.6 + 0.9 * len(elements), 0.8 + 0.32 * len(hosts)))
        span = np.nanmax(np.abs(grid)) or 1.0
        cmap = plt.get_cmap("RdBu").with_extremes(bad="0.92")  # grey: not computed
        image = ax.imshow(grid, cmap=cmap, vmin=-span, vmax=span, aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(v) > 0.6 * span else "black")
        ax.set_xticks(range(len(elements)), elements)
        ax.set_yticks(range(len(hosts)), hosts, fontsize=8)
        fig.colorbar(image, ax=ax, label=next(iter(best.values()))["unit"])
        ax.set_title(f"{kind} ({reference} reference)", fontsize=10)
        parts.append(f"<h3>{html.escape(kind)}, {html.escape(reference)} reference, {html.escape(theory)}</h3>")
        parts.append(_figure(fig, f"Most favourable site per host and adsorbate (grey: not computed); "
                                  f"negative = favourable. "
                                  f"{next(iter(best.values()))['definition']}"))
        rows = [[h, e, d["site"] or "", d["final_site"] or "", f"{d['value']:.3f}", d["row_id"][:10]]
                for (h, e), d in sorted(best.items())]
        parts.append(_table(["host", "adsorbate", "site", "relaxed to", "value", "row"], rows, numeric=(4,)))
    return "".join(parts) or "<p class='note'>No energy rows in this selection.</p>"


def _curves_section(docs: list[dict], x: str, y: str, xlabel: str, ylabel: str, extra=None) -> str:
    import matplotlib.pyplot as plt

    usable = [d for d in docs if x in d.get("details", {}) and y in d.get("details", {})]
    if not usable:
        return "<p class='note'>No rows of this kind in this selection.</p>"
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for d in usable[:12]:
        label = f"{d['host']['label']} {d['adsorbate']['element']} {d['site'] or ''}".strip()
        ax.plot(d["details"][x], d["details"][y], marker="o" if extra else None, ms=3, lw=1, label=label)
        if extra:
            extra(ax, d)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    rows = [[d["host"]["label"], d["adsorbate"]["element"], d["site"] or "", f"{d['value']:.3f}", d["unit"],
             _theory(d), d["row_id"][:10]] for d in usable]
    more = f" ({len(usable) - 12} more in the table)" if len(usable) > 12 else ""
    return _figure(fig, f"{len(usable)} curves{more}") + _table(
        ["host", "adsorbate", "site / path", "value", "unit", "theory", "row"], rows, numeric=(3,))


def _spline(ax, d: dict) -> None:
    s, e = d["details"].get("spline", ([], []))
    ax.plot(s, e, lw=0.8, color=ax.lines[-1].get_color(), alpha=0.6)


def _parity_section(docs: list[dict]) -> str:
    import matplotlib.pyplot as plt

    pairs = [(entry, d) for d in docs for entry in d.get("details", {}).get("literature", [])
             if isinstance(entry, dict) and isinstance(entry.get("value"), (int, float))]
    if not pairs:
        return "<p class='note'>No rows with a literature value in this selection (see 'anodescreen reproduce').</p>"
    lit = [entry["value"] for entry, _ in pairs]
    got = [d["value"] for _, d in pairs]
    lo, hi = min(lit + got), max(lit + got)
    pad = 0.05 * (hi - lo or 1.0)
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=0.8)
    for dft in (True, False):
        sel = [(a, b) for a, b, (_, d) in zip(lit, got, pairs) if d["is_dft"] == dft]
        if sel:
            ax.scatter(*zip(*sel), s=14, label="DFT" if dft else "MLIP")
    ax.set_xlabel("literature")
    ax.set_ylabel("computed")
    ax.legend(fontsize=8)
    rows = [[entry.get("name", d["kind"]), f"{a:.3f}", f"{b:.3f}", f"{b - a:+.3f}", d["unit"], _theory(d),
             entry.get("citation", "")] for a, b, (entry, d) in zip(lit, got, pairs)]
    mae = sum(abs(b - a) for a, b in zip(lit, got)) / len(pairs)
    return _figure(fig, f"{len(pairs)} values; mean absolute deviation {mae:.3f}") + _table(
        ["target", "literature", "computed", "deviation", "unit", "theory", "source"], rows, numeric=(1, 2, 3))


def _section(section: Section, docs: list[dict]) -> str:
    if section.style == "energies":
        return _energy_section(docs)
    return _curves_section(docs, section.x, section.y, section.xlabel, section.ylabel,
                           extra=_spline if section.spline else None)


def write_report(results: Store, path: str | Path, sections: list[tuple[Section, tuple[str, ...]]],
                 filters: dict | None = None, title: str | None = None,
                 funnel: list[list[str]] | None = None) -> dict:
    """Write the HTML report of the rows matching ``filters``; counts of what it shows.

    ``sections``: each section with the row kinds it shows, in page order; ``funnel``: one row per funnel
    group (campaign, host, region, alkali, where it went, why), shown as its own section.
    """
    import matplotlib

    refuse_store_file(results, path)

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "anodescreen"  # stable element ids
    docs = list(results.query(build_filter(filters or {}), properties=FIELDS))
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for d in sorted(docs, key=lambda d: (d["value"], d["row_id"])):
        by_kind[d["kind"]].append(d)
    theories = sorted({_theory(d) for d in docs})
    title = title or "anodescreen results"
    selection = ", ".join(f"{k}={v}" for k, v in (filters or {}).items() if v is not None) or "all rows"
    summary = _table(["kind", "rows"], [[k, len(v)] for k, v in sorted(by_kind.items())], numeric=(1,))
    bodies = [(section.title, _section(section, [d for k in kinds for d in by_kind.get(k, [])]))
              for section, kinds in sections]
    bodies.append(("Parity with literature", _parity_section(docs)))
    if funnel:
        bodies.append(("Funnel: which hosts went to DFT and why",
                       _table(["campaign", "host", "region", "alkali", "computed at", "decision"], funnel)))
    page = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{len(docs)} rows ({html.escape(selection)}); written {now():%Y-%m-%d %H:%M} UTC. "
            "Energies in eV, negative = favourable. Levels of theory: "
            f"{html.escape('; '.join(theories) or 'none')}.</p>{summary}"
            + "".join(f"<section><h2>{html.escape(name)}</h2>{body}</section>" for name, body in bodies)
            + "</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return {"rows": len(docs), "figures": page.count("<figure>"), "kinds": {k: len(v) for k, v in by_kind.items()}}
