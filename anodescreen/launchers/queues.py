"""Slurm and PBS job scripts for FireWorks workers, from a validated queue config.

A queue config (``db_config/queue_slurm.yaml``, ``db_config/queue_pbs.yaml``) names the
resources (nodes, tasks, walltime, account, partition), the environment modules and
exported variables; the DFT command itself is an engine setting of the campaign
(``engine.command``). Every field is checked against a strict pattern before FireWorks'
CommonAdapter renders the script, so no user string reaches the shell except as a
plain word. The worker line is ``<python> -m anodescreen.cli.main worker``, which
connects to the LaunchPad through its config file (passwords stay in the environment)
and runs ``launches`` Fireworks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: characters a shell takes literally in an unquoted word (queue fields, job names)
SHELL_WORD = "A-Za-z0-9_.+/=:@%-"
_WORD = re.compile(f"^[{SHELL_WORD}]+$")  # no spaces, quotes, $, `, ;, |, &, <, >, (, )
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.+/=:@%,-]*$")


def plain_word(text: str) -> str:
    """``text`` with every character a shell could interpret replaced by ``_``."""
    return re.sub(f"[^{SHELL_WORD}]", "_", text) or "_"


def _word(value: str, what: str) -> str:
    if not _WORD.match(value):
        raise ValueError(f"{what} {value!r} may hold only letters, digits and _ . + / = : @ % -")
    return value


class QueueConfig(BaseModel):
    """Resources and environment of one batch job that runs anodescreen workers."""

    model_config = ConfigDict(extra="forbid")

    system: Literal["slurm", "pbs"]
    job_name: str = "anodescreen"
    nodes: int = Field(1, ge=1)
    tasks_per_node: int = Field(1, ge=1, description="MPI ranks per node for the DFT code")
    cpus_per_task: int = Field(1, ge=1)
    walltime: str = Field("24:00:00", pattern=r"^(\d+-)?\d{1,3}:\d{2}:\d{2}$")
    account: str | None = None
    queue: str | None = Field(None, description="Slurm partition / PBS queue")
    modules: list[str] = Field(default_factory=list, description="'module load' before the worker starts")
    environment: list[str] = Field(default_factory=list, description="KEY=VALUE exported before the worker")
    launchpad: str = Field("db_config/launchpad.yaml", description="LaunchPad config the worker reads")
    launches: int = Field(1, ge=0, description="Fireworks each job runs before it ends (0: until none is ready)")
    python: str = Field(default_factory=lambda: sys.executable,
                        description="interpreter with anodescreen installed; default: the one submitting "
                                    "(batch scripts start login shells, so PATH cannot be relied on)")

    @field_validator("job_name", "account", "queue", "launchpad", "python")
    @classmethod
    def _plain(cls, value: str | None, info) -> str | None:
        return None if value is None else _word(value, info.field_name)

    @field_validator("modules")
    @classmethod
    def _modules(cls, value: list[str]) -> list[str]:
        return [_word(m, "module") for m in value]

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: list[str]) -> list[str]:
        for pair in value:
            if not _ENV.match(pair):
                raise ValueError(f"environment entry {pair!r} must be KEY=VALUE with a plain value")
        return value


def load_queue(path: str | Path) -> QueueConfig:
    """Read and validate a queue config file; bad input is one line naming the field."""
    from anodescreen.db.stores import read_config

    return read_config(Path(path), QueueConfig, "queue")


def qadapter(config: QueueConfig):
    """FireWorks' CommonAdapter for ``config`` (what ``qlaunch`` uses to write and submit scripts)."""
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

    pre = [f"module load {m}" for m in config.modules] + [f"export {e}" for e in config.environment]
    worker = (f"{config.python} -m anodescreen.cli.main worker --launchpad {config.launchpad} "
              f"--launches {config.launches}")
    fields = {"job_name": config.job_name, "walltime": config.walltime, "queue": config.queue,
              "account": config.account, "pre_rocket": "\n".join(pre) or None, "rocket_launch": worker}
    if config.system == "slurm":
        fields |= {"nodes": config.nodes, "ntasks_per_node": config.tasks_per_node,
                   "cpus_per_task": config.cpus_per_task}
        return CommonAdapter("SLURM", **{k: v for k, v in fields.items() if v is not None})
    fields |= {"nnodes": config.nodes, "ppnode": config.tasks_per_node * config.cpus_per_task}
    return CommonAdapter("PBS", **{k: v for k, v in fields.items() if v is not None})


def render_script(config: QueueConfig, launch_dir: str | Path) -> str:
    """The job script FireWorks would submit for ``config`` from ``launch_dir``."""
    return qadapter(config).get_script_str(str(launch_dir))
