"""Running an external code (CP2K, GPAW under ``mpirun``) in its own process group, stopped cleanly.

Only that process group is ever signalled (never ``killall``), so other runs on the node are
untouched; a SIGTERM (kill, scancel) or a wall time stops every rank of this run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

#: one thread per MPI rank, and mpirun may run as root (CI containers)
MPI_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
           "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def with_mpi(cmd: list[str], procs: int) -> list[str]:
    """``cmd`` under ``mpirun -np procs`` when more than one rank is asked for and mpirun exists."""
    if procs > 1 and shutil.which("mpirun"):
        return ["mpirun", "--oversubscribe", "-np", str(procs), *cmd]
    return cmd


def run_group(cmd: list[str], rundir: Path, timeout_s: float | None, stdout: Path | None = None,
              env: dict[str, str] | None = None) -> int | str:
    """Run ``cmd`` in ``rundir`` in a new process group (stderr to ``stderr.txt``, ``env`` added to the
    environment); its exit code, or the reason it was stopped."""
    env = {**os.environ, **MPI_ENV, **(env or {})}
    # a SIGTERM (kill, scancel) must reach the except below, or the ranks outlive this process
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_exit) if main else None
    with open(rundir / "stderr.txt", "wb") as err, open(stdout or os.devnull, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=rundir, env=env, stdout=out, stderr=err, start_new_session=True)
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            return f"wall time of {timeout_s:g} s exceeded"
        except BaseException:
            _stop_group(proc)  # interrupted: leave no orphaned ranks behind
            raise
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)


def stderr_tail(rundir: Path) -> str:
    """The last line of a run's stderr (200 characters at most)."""
    path = rundir / "stderr.txt"
    lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    return lines[-1][:200] if lines else ""


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
