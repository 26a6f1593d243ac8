"""Typed errors. A BadInput is the user's mistake: it becomes one line and exit code 4, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_INTERNAL = 3
EXIT_BAD_INPUT = 4


class BadInput(Exception):
    """A missing or malformed input file or option; `str()` is the one line shown to the user."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line else f"{self.path}: "
        # One line, always: text taken from the input must not spill over (or forge) further lines.
        super().__init__(" ".join(f"{where}{message}".splitlines()))

    def masked(self, mask: Callable[[str], str]) -> BadInput:
        """The same error with its reason passed through `mask` (a Redactor): no secret leaves in it."""
        return BadInput(mask(self.reason), self.path, self.line)


class InterpolationError(ValueError):
    """A Compose `${...}` expression that cannot be resolved (missing required variable, bad syntax).

    `safe` says the same without any text of the input: what is shown when the text is a secret's value."""

    def __init__(self, message: str, *, safe: str | None = None) -> None:
        super().__init__(message)
        self.safe = safe or message
