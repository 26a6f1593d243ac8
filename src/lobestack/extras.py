"""The optional parts of `pip install lobestack`: which extra brings the tools of which layer. A run that needs a
missing one stops with one line naming the extra (BadInput: exit 4), never an ImportError halfway through."""

from __future__ import annotations

import importlib.util

from lobestack.errors import BadInput

# extra -> (what needs it, the modules it installs)
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stack": ("the ephemeral stack (--target compose)", ("testcontainers", "docker")),
    "browser": ("the browser flows (the e2e layer)", ("playwright", "pytest_playwright")),
    "host": ("the host and gpu layers (testinfra)", ("testinfra",)),
}


def missing(extra: str) -> list[str]:
    """The modules of `extra` that are not installed."""
    return [module for module in EXTRAS[extra][1] if importlib.util.find_spec(module) is None]


def require(extra: str) -> None:
    """BadInput, in one line, when a module of `extra` is not installed."""
    absent = missing(extra)
    if absent:
        what = EXTRAS[extra][0]
        raise BadInput(
            f"{what} needs the `{extra}` extra ({', '.join(absent)} not installed): pip install 'lobestack[{extra}]'"
        )
