"""What every command shares: the app, consoles, one-line errors, the store option and filters."""

from __future__ import annotations

import os
import re
import sys
import warnings
from functools import wraps
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from anodescreen.errors import AnodescreenError
from anodescreen.db.queries import BOOL_FIELDS

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="High-throughput screening of alkali-metal anode hosts.")
out = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbConfig = typer.Option(None, "--db-config", help="store config file (db_config/*.yaml); default: embedded ./anodescreen.db")
Where = typer.Option(None, "--where", help="FIELD=VALUE filter, repeatable (fields as in query --help)")


def one_line_errors(func):
    """Bad input and unusable stores end the command with one line and exit code 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AnodescreenError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # never show a traceback unless asked to
            if os.environ.get("ANODESCREEN_DEBUG"):
                raise
            msg = str(exc).splitlines()[0] if str(exc) else ""
            err.print(f"[red]internal error:[/red] {type(exc).__name__}: {msg} "
                      "(set ANODESCREEN_DEBUG=1 for details)", highlight=False)
            raise typer.Exit(3) from None

    return wrapper

def quiet_libraries() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")

def open_store(db_config: Path | None, spec_store: str | None = None):
    from anodescreen.db.stores import open_stores

    return open_stores(db_config if db_config is not None else spec_store)

def parse_where(pairs: list[str] | None) -> dict[str, object]:
    """``field=value`` strings to a filter dict; is_dft, single_point and count are typed, the rest strings."""
    filters: dict[str, object] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise AnodescreenError(f"--where {pair!r} is not FIELD=VALUE", "where")
        if name in BOOL_FIELDS:
            if value.lower() not in ("true", "false"):
                raise AnodescreenError(f"--where {name} must be true or false, not {value!r}", "where")
            filters[name] = value.lower() == "true"
        elif name == "count":
            if not re.fullmatch(r"[0-9]{1,9}", value):  # ASCII digits only; no 5000-digit integers
                raise AnodescreenError(f"--where count must be a whole number below 10^9, not {value[:20]!r}",
                                       "where")
            filters[name] = int(value)
        else:
            filters[name] = value
    return filters

def print_states(launcher: str, states: dict[str, dict[str, int]]) -> None:
    for name, counts in sorted(states.items()):
        out.print(f"{launcher} {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), highlight=False)

def print_rows(rows: list[dict]) -> None:
    if not rows:
        out.print("no rows match")
        return
    table = Table(caption="eV; negative = favourable; ranked within each kind × reference. "
                          "MLIP values rank candidates; they are not DFT. SP: a DFT single point on the "
                          "MLIP geometry, not relaxed.")
    for name in ("kind", "ref", "rank", "host", "adsorbate", "site", "final_site", "value", "method", "id"):
        table.add_column(name, justify="right" if name in ("rank", "value") else "left", no_wrap=True)
    group, rank = None, 0
    for r in rows:
        rank = rank + 1 if (r["kind"], r["reference"]) == group else 1
        if rank == 1 and group is not None:
            table.add_section()
        group = (r["kind"], r["reference"])
        table.add_row(r["kind"], r["reference"], str(rank), r["host"], r["adsorbate"], r["site"] or "",
                      r["final_site"] or "", f"{r['value']:.3f}",
                      f"{r['method']}{_marks(r)}", r["row_id"][:10])
    out.print(table)


def _marks(row: dict) -> str:
    return ("" if row["is_dft"] else " (MLIP)") + (" (SP)" if row.get("single_point") else "")
