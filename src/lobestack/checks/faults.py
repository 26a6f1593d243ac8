"""Faults: what the project's own tests break on purpose to prove a check. Declared beside each check (as data: the
catalogue prints them); applied by the tests — static steps edit a copy of a deployment directory, live steps
change a running ephemeral stack and restore it byte for byte (tests/faults.py).

A Fault is one or more steps applied together and the finding it must produce: a phrase of the check's message
(`expect`). A proof passes only when the check fails with its own ID AND a finding containing that phrase."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# --- static steps: edits of a deployment directory -----------------------------------------------------------------


@dataclass(frozen=True)
class SetEnv:
    """Set (or, with None, remove) keys of the deployment's .env."""

    values: dict[str, str | None]
    expect: str | None = None

    def apply(self, root: Path) -> None:
        from lobestack.deployment.envfile import format_env_line

        path = root / ".env"
        lines = path.read_text(encoding="utf-8").splitlines()
        pending = dict(self.values)
        out = []
        for line in lines:
            key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
            if key in pending:
                value = pending.pop(key)
                if value is not None:
                    out.append(format_env_line(key, value))
                continue
            out.append(line)
        out.extend(format_env_line(k, v) for k, v in pending.items() if v is not None)
        path.write_text("\n".join(out) + "\n", encoding="utf-8")

    def __str__(self) -> str:
        return "; ".join(f"unset {k}" if v is None else f"{k}={v!r}" for k, v in self.values.items())


@dataclass(frozen=True)
class Edit:
    """Replace text in one file of the deployment. The text must occur exactly `count` times (default once): a
    stale or ambiguous fault fails loudly instead of breaking something else."""

    file: str
    old: str
    new: str
    count: int = 1
    expect: str | None = None

    def replace_in(self, text: str) -> str:
        found = text.count(self.old)
        if found != self.count:
            raise AssertionError(f"fault {self}: {self.old!r} occurs {found} times in {self.file}, not {self.count}")
        return text.replace(self.old, self.new)

    def apply(self, root: Path) -> None:
        path = root / self.file
        path.write_text(self.replace_in(path.read_text(encoding="utf-8")), encoding="utf-8")

    def __str__(self) -> str:
        return f"{self.file}: {self.old!r} -> {self.new!r}"


# --- live steps: changes to a running stack (ephemeral target only) ------------------------------------------------


@dataclass(frozen=True)
class SiteEdit:
    """Edit one site config of the running stack's Nginx (exactly one match), then reload Nginx."""

    file: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"nginx/{self.file}: {self.old!r} -> {self.new!r} (reloaded)"


@dataclass(frozen=True)
class Recreate:
    """Edit a file of the stack's deployment directory (exactly one match), then recreate `services`."""

    file: str
    old: str
    new: str
    services: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.file}: {self.old!r} -> {self.new!r}, then recreate {', '.join(self.services)}"


@dataclass(frozen=True)
class EnvSet:
    """Set one key of the stack's .env (its one line), then recreate `services` (none: only the suite reads it)."""

    key: str
    value: str
    services: tuple[str, ...]

    def __str__(self) -> str:
        if not self.services:  # a value only the suite reads (e.g. the test user's password): nothing to recreate
            return f".env: {self.key}={self.value!r}"
        return f".env: {self.key}={self.value!r}, then recreate {', '.join(self.services)}"


@dataclass(frozen=True)
class Pause:
    """Freeze a service (`docker compose pause`); undone by unpausing it."""

    service: str

    def __str__(self) -> str:
        return f"`docker compose pause {self.service}`"


@dataclass(frozen=True)
class Command:
    """Run a command in a service's container; undone by another command."""

    service: str
    do: tuple[str, ...]
    undo: tuple[str, ...]

    def __str__(self) -> str:
        return f"in {self.service}: {' '.join(self.do)} (undo: {' '.join(self.undo)})"


@dataclass(frozen=True)
class Certificate:
    """Serve another certificate for `name`: `expired`, `wrong-name`, `expires-in:N` (days), all from the run's CA,
    or `untrusted` (from a CA nobody trusts); Nginx reloaded, the original files restored afterwards."""

    name: str
    kind: str

    def __str__(self) -> str:
        return f"certificate for {self.name}: {self.kind} (reloaded)"


Step = SetEnv | Edit | SiteEdit | Recreate | EnvSet | Pause | Command | Certificate
LIVE_STEPS = (SiteEdit, Recreate, EnvSet, Pause, Command, Certificate)


@dataclass(frozen=True)
class Fault:
    steps: tuple[Step, ...]
    expect: str | None = None
    # A browser flow (e2e) must fail at this step of the flow, not earlier or later.
    at: str | None = None

    @property
    def live(self) -> bool:
        return any(isinstance(s, LIVE_STEPS) for s in self.steps)

    def __str__(self) -> str:
        text = " + ".join(map(str, self.steps))
        where = f" at step “{self.at}”:" if self.at else ""
        return f"{text} ⇒{where} “{self.expect}”" if self.expect else text


def fault(*steps: Step, expect: str, at: str | None = None) -> Fault:
    """A fault of one or more steps and the phrase of the finding it must produce (for a browser flow: and the step
    where it must fail)."""
    return Fault(tuple(steps), expect, at)


def as_fault(declared: Fault | Step | tuple[Step, ...]) -> Fault:
    if isinstance(declared, Fault):
        return declared
    steps = declared if isinstance(declared, tuple) else (declared,)
    expect = next((s.expect for s in steps if getattr(s, "expect", None)), None)
    return Fault(tuple(steps), expect)
