"""The check registry: every check has a stable ID, a one-line reason, a fix hint, and the faults that prove it.

A check is a function `(Deployment) -> Iterable[Finding]`; no finding means it passed. Its faults are edits of a
healthy deployment directory on which it must fail with its own ID (tests/static/test_check_proofs.py enforces it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lobestack.deployment import Deployment

_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")


@dataclass(frozen=True)
class Finding:
    """One problem: where it is (file:line) and what was seen."""

    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class SetEnv:
    """Fault: set (or, with None, remove) keys of the deployment's .env. With `raw`, each value is written as the
    text after `=`, exactly (quotes, `$` and escapes as the user would type them)."""

    values: dict[str, str | None]
    raw: bool = False

    def apply(self, root: Path) -> None:
        path = root / ".env"
        lines = path.read_text(encoding="utf-8").splitlines()
        pending = dict(self.values)
        out = []
        for line in lines:
            key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
            if key in pending:
                value = pending.pop(key)
                if value is not None:
                    out.append(self._line(key, value))
                continue
            out.append(line)
        out.extend(self._line(k, v) for k, v in pending.items() if v is not None)
        path.write_text("\n".join(out) + "\n", encoding="utf-8")

    def _line(self, key: str, value: str) -> str:
        from lobestack.deployment.envfile import format_env_line

        return f"{key}={value}" if self.raw else format_env_line(key, value)

    def __str__(self) -> str:
        if self.raw:
            return "; ".join(f"unset {k}" if v is None else f".env line {k}={v}" for k, v in self.values.items())
        return "; ".join(f"unset {k}" if v is None else f"{k}={v!r}" for k, v in self.values.items())


@dataclass(frozen=True)
class Edit:
    """Fault: replace text in one file of the deployment (the text must be there: a stale fault fails loudly)."""

    file: str
    old: str
    new: str
    count: int = -1

    def apply(self, root: Path) -> None:
        path = root / self.file
        text = path.read_text(encoding="utf-8")
        if self.old not in text:
            raise AssertionError(f"stale fault: {self.old!r} is not in {self.file}")
        path.write_text(text.replace(self.old, self.new, self.count), encoding="utf-8")

    def __str__(self) -> str:
        return f"{self.file}: {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class LiveFault:
    """Fault: a change to a running stack (`apply`), undone by `revert`; `str()` says what it breaks."""

    description: str
    apply: Callable[[Any], None]
    revert: Callable[[Any], None]

    def __str__(self) -> str:
        return self.description


Fault = SetEnv | Edit | LiveFault


@dataclass(frozen=True)
class Check:
    id: str
    group: str
    title: str
    fix: str
    run: Callable[[Any], Iterable[Finding]]
    faults: tuple[tuple[Fault, ...], ...] = field(default_factory=tuple)

    @property
    def layer(self) -> str:
        return LAYERS[self.group]

    def findings(self, subject: Deployment | Any) -> list[Finding]:
        """Run the check on a Deployment (static layer) or a running stack (stack layer)."""
        return list(self.run(subject))


REGISTRY: dict[str, Check] = {}
GROUPS = ("compose", "nginx", "env", "consistency", "stack")
# The layer a group belongs to: static checks read a Deployment, stack checks a running stack.
LAYERS = {"compose": "static", "nginx": "static", "env": "static", "consistency": "static", "stack": "stack"}


def check(
    id: str, *, group: str, title: str, fix: str, faults: Iterable[Fault | tuple[Fault, ...]] = ()
) -> Callable[[Callable[[Deployment], Iterable[Finding]]], Callable[[Deployment], Iterable[Finding]]]:
    """Register a static check. Each fault is one edit, or a tuple of edits applied together."""
    if not _ID.match(id):
        raise ValueError(f"check id {id!r} must look like GROUP-NAME")
    if group not in GROUPS:
        raise ValueError(f"check {id}: unknown group {group!r}")

    def register(fn: Callable[[Deployment], Iterable[Finding]]) -> Callable[[Deployment], Iterable[Finding]]:
        if id in REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        normalised = tuple(f if isinstance(f, tuple) else (f,) for f in faults)
        REGISTRY[id] = Check(id=id, group=group, title=title, fix=fix, run=fn, faults=normalised)
        return fn

    return register


def all_checks(layer: str | None = "static") -> list[Check]:
    """The registered checks of one layer (None: all), in catalogue order (group, then ID)."""
    import lobestack.checks.compose_policy
    import lobestack.checks.consistency
    import lobestack.checks.env_policy
    import lobestack.checks.nginx_policy
    import lobestack.checks.stack_routing  # noqa: F401  (registration by import)

    chosen = [c for c in REGISTRY.values() if layer is None or c.layer == layer]
    return sorted(chosen, key=lambda c: (GROUPS.index(c.group), c.id))
