"""Running CP2K: ``cp2k.psmp`` under ``mpirun`` (:mod:`anodescreen.engines.process`), and its version."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from anodescreen.engines.cp2k.inputs import PROJECT
from anodescreen.engines.process import run_group, stderr_tail, with_mpi
from anodescreen.errors import AnodescreenError


def run_cp2k(command: str, rundir: Path, procs: int, timeout_s: float | None) -> str | None:
    """Run ``command`` on ``rundir``/anodescreen.inp with ``procs`` MPI ranks in a new process group;
    a failure reason or None."""
    exe = shutil.which(command)
    if exe is None:
        raise AnodescreenError(f"CP2K executable {command!r} not found (make cp2k installs it)", "engine")
    code = run_group(with_mpi([exe, "-i", f"{PROJECT}.inp", "-o", f"{PROJECT}.out"], procs), rundir, timeout_s)
    if isinstance(code, str):
        return code
    if code != 0:
        return f"CP2K exited with code {code} {_abort_message(rundir) or stderr_tail(rundir)}".strip()
    return None


def _abort_message(rundir: Path) -> str:
    out = rundir / f"{PROJECT}.out"
    text = out.read_text(errors="replace") if out.exists() else ""
    match = re.findall(r"\*\s+\[ABORT\]\s+\*\s*\n\s*\*\s+\\___/\s+(.*?)\s*\*", text)
    return f"({match[-1].strip()})" if match else ""


@cache
def cp2k_version(command: str = "cp2k.psmp") -> str | None:
    """``2023.1`` for the installed CP2K, or None when it is absent."""
    exe = shutil.which(command)
    if exe is None:
        return None
    try:
        text = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"CP2K version (\S+)", text)
    return match.group(1) if match else None
