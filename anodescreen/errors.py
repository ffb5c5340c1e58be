"""The one exception type users see: a one-line message naming what is wrong; and the YAML reader that raises it."""

from __future__ import annotations

from pathlib import Path

import yaml


class AnodescreenError(ValueError):
    """Bad input or an unusable environment, reported to the user in one line.

    Parameters
    ----------
    message
        What is wrong, phrased for the user.
    field
        The spec field or argument at fault, if there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


def load_yaml(path: Path, field: str):
    """The parsed contents of the YAML file ``path``; a missing, binary or malformed file is one line."""
    if not path.is_file():
        raise AnodescreenError(f"no such file {str(path)!r}", field)
    try:
        return yaml.safe_load(path.read_text())
    except UnicodeDecodeError:
        raise AnodescreenError(f"{path} is not a text file (expected YAML)", field) from None
    except yaml.YAMLError as exc:
        raise AnodescreenError(f"{path} is not valid YAML ({str(exc).splitlines()[0]})", field) from None
