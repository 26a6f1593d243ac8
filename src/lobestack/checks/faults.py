"""Faults: what the project's own tests break on purpose to prove a check. Declared beside each check (as data: the
catalogue prints them); applied by the tests — static steps edit a copy of a deployment directory, live steps
change a running ephemeral stack and restore it byte for byte (tests/faults.py).

A Fault is one or more steps applied together and the finding it must produce: a phrase of the check's message
(`expect`). A proof passes only when the check fails with its own ID AND a finding containing that phrase. A Pass is
the opposite: a variant of a healthy deployment (steps applied together) on which the check must stay silent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# --- static steps: edits of a deployment directory -----------------------------------------------------------------


@dataclass(frozen=True)
class SetEnv:
    """Set (or, with None, remove) keys of the deployment's .env. With `raw`, each value is written as the text
    after `=`, exactly (quotes, `$` and escapes as the user would type them)."""

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
    """Replace text in one file of the deployment. The text must occur exactly `count` times (default once): a
    stale or ambiguous fault fails loudly instead of breaking something else."""

    file: str
    old: str
    new: str
    count: int = 1

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


@dataclass(frozen=True)
class AddFile:
    """Write a new file into the deployment (a second site config, an included snippet, an env_file); it must not
    exist yet."""

    file: str
    text: str

    def apply(self, root: Path) -> None:
        path = root / self.file
        if path.exists():
            raise AssertionError(f"fault {self}: {self.file} exists already")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text, encoding="utf-8")

    def __str__(self) -> str:
        return f"new file {self.file}: {self.text!r}"


# --- live steps: changes to a running stack (ephemeral target only) ------------------------------------------------


@dataclass(frozen=True)
class SiteEdit:
    """Edit one site config of the running stack's Nginx (exactly one match), then reload Nginx — or, with
    `reload=False`, leave the running Nginx on its old configuration (a site edited but never tested)."""

    file: str
    old: str
    new: str
    reload: bool = True

    def __str__(self) -> str:
        how = "reloaded" if self.reload else "not reloaded"
        return f"nginx/{self.file}: {self.old!r} -> {self.new!r} ({how})"


@dataclass(frozen=True)
class Recreate:
    """Edit a file of the stack's deployment directory (exactly one match), then recreate `services`."""

    file: str
    old: str
    new: str
    services: tuple[str, ...]
    # False: do not wait for the services to become ready (a fault that keeps them from it); the tests wait until
    # Docker has judged them instead (restarted once, or health no longer "starting").
    ready: bool = True

    def __str__(self) -> str:
        text = f"{self.file}: {self.old!r} -> {self.new!r}, then recreate {', '.join(self.services)}"
        return text if self.ready else text + " (not waiting for it to be ready)"


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


@dataclass(frozen=True)
class Stop:
    """Stop a service (`docker compose stop`); undone by starting it again."""

    service: str

    def __str__(self) -> str:
        return f"`docker compose stop {self.service}`"


@dataclass(frozen=True)
class Listen:
    """A process on the host listens on `address` at a free port; undone by closing it."""

    address: str = "0.0.0.0"

    def __str__(self) -> str:
        return f"a process listens on {self.address}:<a free port>"


# --- host and gpu steps: the run's settings, and hosts that answer from recordings ---------------------------------


@dataclass(frozen=True)
class Setting:
    """Run the check with one setting changed (a command-line option: a threshold, a model to warm up)."""

    name: str
    value: object

    def __str__(self) -> str:
        return f"--{self.name.replace('_', '-')} {self.value}"


@dataclass(frozen=True)
class Recorded:
    """The host answers every command as recorded in tests/data/hosts/<name>.yaml (real outputs, each with its
    source and date): how checks of hardware and states CI cannot have (a GPU, a stopped Docker daemon) are proven."""

    name: str

    def __str__(self) -> str:
        return f"a host recorded as `{self.name}`"


@dataclass(frozen=True)
class Unresolvable:
    """A public name without a DNS record: the run's resolver finds no address for it (the project's tests swap in
    a resolver that never asks the network)."""

    name: str

    def __str__(self) -> str:
        return f"{self.name} has no DNS record"


@dataclass(frozen=True)
class LogtoRedirectUris:
    """Set the redirect URIs of LobeChat's application in Logto (the one AUTH_LOGTO_ID names) through Logto's
    Management API, with the provisioning app's credentials from .env, as an admin would in the console; its client
    metadata is restored exactly afterwards."""

    redirect_uris: tuple[str, ...]

    def __str__(self) -> str:
        return f"Logto (Management API): LobeChat's application redirect URIs -> {list(self.redirect_uris)}"


Step = (
    SetEnv
    | Edit
    | AddFile
    | SiteEdit
    | Recreate
    | EnvSet
    | Pause
    | Command
    | Certificate
    | Stop
    | Listen
    | Setting
    | Recorded
    | Unresolvable
    | LogtoRedirectUris
)
STATIC_STEPS = (SetEnv, Edit, AddFile)
LIVE_STEPS = (SiteEdit, Recreate, EnvSet, Pause, Command, Certificate, Stop, Listen, Unresolvable, LogtoRedirectUris)


@dataclass(frozen=True)
class Fault:
    steps: tuple[Step, ...]
    expect: str | None = None
    # The fault must produce a warning (reported, not failing), not a failure.
    warns: bool = False
    # A browser flow (e2e) must fail at this step of the flow, not earlier or later.
    at: str | None = None

    @property
    def live(self) -> bool:
        return any(isinstance(s, LIVE_STEPS) for s in self.steps)

    def __str__(self) -> str:
        text = " + ".join(map(str, self.steps))
        kind = "warns " if self.warns else ""
        where = f" at step “{self.at}”:" if self.at else ""
        return f"{text} ⇒{where} {kind}“{self.expect}”" if self.expect else text


def fault(*steps: Step, expect: str, warns: bool = False, at: str | None = None) -> Fault:
    """A fault of one or more steps and the phrase of the finding it must produce (a warning when `warns`; for a
    browser flow, `at` is the step where it must fail)."""
    return Fault(tuple(steps), expect, warns, at)


@dataclass(frozen=True)
class Pass:
    """A healthy variant: steps applied together, after which the check must report nothing. `why` says what the
    variant shows the check accepts (another legitimate way to write the same thing)."""

    steps: tuple[Step, ...]
    why: str

    def __str__(self) -> str:
        return f"{self.why}: {' + '.join(map(str, self.steps))}"


def passes(*steps: Step, why: str) -> Pass:
    """A must-pass variant of one or more steps and what it shows."""
    return Pass(tuple(steps), why)


def as_fault(declared: Fault | Step | tuple[Step, ...]) -> Fault:
    if isinstance(declared, Fault):
        return declared
    steps = declared if isinstance(declared, tuple) else (declared,)
    return Fault(tuple(steps))
