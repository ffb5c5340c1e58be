"""The ``anodescreen`` command, one module per command group over a shared error and store context
(:mod:`anodescreen.cli.common`)."""

from __future__ import annotations

from anodescreen.cli import campaign, cluster, database, reproduce, build  # noqa: F401 (they register commands)
from anodescreen.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
