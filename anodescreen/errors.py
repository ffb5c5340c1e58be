"""The one exception type users see: a one-line message naming what is wrong."""

from __future__ import annotations


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
