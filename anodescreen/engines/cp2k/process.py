"""Running CP2K: ``cp2k.psmp`` under ``mpirun`` in its own process group, stopped cleanly.

Only that process group is ever signalled (never ``killall``), so other CP2K runs on the
node are untouched; a SIGTERM (kill, scancel) or a wall time stops every rank of this run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from functools import cache
from pathlib import Path

from anodescreen.engines.cp2k.inputs import PROJECT
from anodescreen.errors import AnodescreenError


def run_cp2k(command: str, rundir: Path, procs: int, timeout_s: float | None) -> str | None:
    """Run ``command`` on ``rundir``/anodescreen.inp with ``procs`` MPI ranks in a new process group;
    a failure reason or None."""
    exe = shutil.which(command)
    if exe is None:
        raise AnodescreenError(f"CP2K executable {command!r} not found (make cp2k installs it)", "engine")
    cmd = [exe, "-i", f"{PROJECT}.inp", "-o", f"{PROJECT}.out"]
    if procs > 1 and shutil.which("mpirun"):
        cmd = ["mpirun", "--oversubscribe", "-np", str(procs), *cmd]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    # a SIGTERM (kill, scancel) must reach the except below, or the ranks outlive this process
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_exit) if main else None
    with open(rundir / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(cmd, cwd=rundir, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            return f"wall time of {timeout_s:g} s exceeded"
        except BaseException:
            _stop_group(proc)  # interrupted: leave no orphaned ranks behind
            raise
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)
    if code != 0:
        tail = (rundir / "stderr.txt").read_text(errors="replace").strip().splitlines()[-1:] or [""]
        return f"CP2K exited with code {code} {_abort_message(rundir) or tail[0][:200]}".strip()
    return None


def _raise_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _stop_group(proc: subprocess.Popen) -> None:
    """Terminate this run's process group (mpirun and its ranks), then kill whatever lingers.

    Waiting for mpirun alone is not enough: its ranks can outlive it by seconds on a loaded node."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                proc.wait(timeout=0.2)  # reap mpirun, or give the group time
                os.killpg(proc.pid, 0)  # any member left?
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return
            time.sleep(0.2)


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
