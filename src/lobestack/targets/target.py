"""What every target offers the live checks: the deployment it runs, how to reach a public name, and — where the
target can — its containers and the ports it publishes on this host. A check declares what it needs (`needs=` in
the registry); a target that cannot offer it reports the check skipped with `why_not`, never a silent pass."""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from lobestack.context import CheckContext
from lobestack.deployment import Deployment
from lobestack.probes.dns import Resolution
from lobestack.probes.http import HttpProbe

# Capabilities a check may need.
CONTAINERS = "containers"  # exec in a service's container, read its health and logs
HOST_PORTS = "host-ports"  # the ports the stack publishes, reachable on this host's loopback
WRITES = "writes"  # the check writes (and removes) its own objects
TEST_USER = "test-user"  # an account of LobeChat's Logto the browser flows sign in with
CONSOLE_ADMIN = "console-admin"  # the Logto console's administrator (created by the flow on a fresh stack)
LOBECHAT_APP = "lobechat-app"  # the real LobeChat application (its tRPC API): not the fast set's stand-in
CAPABILITIES = {
    CONTAINERS: "exec in the stack's containers",
    HOST_PORTS: "the stack's published ports on this host",
    WRITES: "writes to the deployment",
    TEST_USER: "a test user to sign in with",
    CONSOLE_ADMIN: "the Logto console's administrator account",
    LOBECHAT_APP: "the real LobeChat application (the standin set's LobeChat has no tRPC API: use --images reference)",
}


# The .env keys whose URLs the public reaches (their hosts are the deployment's public names).
PUBLIC_URL_KEYS = ("APP_URL", "LOGTO_ENDPOINT", "LOGTO_ADMIN_ENDPOINT", "S3_ENDPOINT", "S3_PUBLIC_DOMAIN")


def public_names_of(deployment: Deployment) -> list[str]:
    """Every public name of a deployment (the hosts of its public URLs), in a stable order."""
    names: list[str] = []
    for key in PUBLIC_URL_KEYS:
        origin = deployment.origin(key)
        if origin is not None and origin.host not in names:
            names.append(origin.host)
    return names


@dataclass(frozen=True)
class Account:
    """An account the browser flows sign in with. The password never reaches a repr, a log or a report."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Accounts:
    user: Account | None = None  # LobeChat's test user (on Logto's default tenant)
    admin: Account | None = None  # the console's administrator (Logto's admin tenant)

    @property
    def passwords(self) -> list[str]:
        return [a.password for a in (self.user, self.admin) if a is not None]


class Unsupported(Exception):
    """The target cannot do this (a check asked for a capability it did not declare)."""


@dataclass(frozen=True)
class ServiceState:
    name: str
    state: str
    health: str
    exit_code: int | None
    one_shot: bool
    has_healthcheck: bool = True

    @property
    def ready(self) -> bool:
        if self.one_shot:
            return self.state == "exited" and self.exit_code == 0
        return self.state == "running" and (self.health == "healthy" or not self.has_healthcheck)

    @property
    def failed(self) -> str | None:
        """Why this service can no longer become ready, or None."""
        if self.state == "restarting":
            return f"keeps restarting (last exit code {self.exit_code})"
        if self.state in ("exited", "dead") and not (self.one_shot and self.exit_code == 0):
            return f"exited with code {self.exit_code}"
        if self.health == "unhealthy":
            return "is unhealthy"
        return None

    def describe(self) -> str:
        if self.one_shot and self.state == "exited":
            return f"completed (exit {self.exit_code})"
        return self.health or self.state


class Target(ABC):
    """A running deployment the live checks talk to."""

    name: ClassVar[str]
    # The target brings its own stack up (rendered, or copied from --deployment with fresh secrets), from an image
    # set (--images), and takes it down: the static checks then read the deployment it runs.
    ephemeral: ClassVar[bool] = False
    # Its public names are looked up in DNS (or --resolve) once per run; the run's first line says where they point.
    resolves_names: ClassVar[bool] = False
    deployment: Deployment
    capabilities: frozenset[str] = frozenset()
    run_id: str = "run"
    timeout_s: float = 10.0  # every connect and read of a probe is bounded by this
    context: CheckContext = CheckContext()  # the run's thresholds (--min-cert-days, …), set by the fixtures

    # --- reaching the public names (every target) ------------------------------------------------------------------
    @property
    @abstractmethod
    def http(self) -> HttpProbe:
        """HTTP(S) to the public names, resolved and trusted as this target says."""

    @abstractmethod
    def address(self, host: str) -> str:
        """The address a connection to public name `host` goes to."""

    @property
    @abstractmethod
    def ca_file(self) -> Path | None:
        """An extra CA to trust besides the system store (None: the system store alone)."""

    @classmethod
    @abstractmethod
    def open(cls, options: TargetOptions, progress: Callable[[str], None]) -> Target:
        """Make the target from the command line's options (BadInput for a wrong one)."""

    @property
    @abstractmethod
    def label(self) -> str:
        """What the run's first line says it ran against."""

    def start(self, progress: Callable[[str], None], timeout_s: float) -> None:
        """Make it ready for the checks (an ephemeral stack starts here); nothing to do for a running one."""
        return

    def finish(self, progress: Callable[[str], None], *, failed: bool, log_dir: Path) -> None:
        """After the checks (an ephemeral stack is removed here, unless kept); nothing for a running one."""
        return

    def why_not(self, need: str) -> str:
        return f"target {self.name} cannot offer {CAPABILITIES.get(need, need)}"

    def exposure_addresses(self) -> list[str]:
        """The non-loopback addresses where no internal port may answer."""
        return []

    def public_names(self) -> list[str]:
        """Every public name of the deployment (the hosts of its public URLs), in a stable order."""
        return public_names_of(self.deployment)

    def resolution(self, name: str) -> Resolution:
        """Where `name` points for this target (pinned targets: their one address)."""
        return Resolution(name, (self.address(name),), pinned=True)

    # --- the browser (e2e layer) ------------------------------------------------------------------------------------
    only_pinned_names: bool = False  # the browser may resolve nothing but the pinned names

    def name_pins(self) -> dict[str, str]:
        """Public names the browser must dial at a given address (like `curl --resolve`); empty: DNS decides."""
        return {}

    def accounts(self) -> Accounts:
        """The accounts the browser flows sign in with (none by default: those flows are skipped, saying why)."""
        return Accounts()

    def account_capabilities(self) -> set[str]:
        """TEST_USER and CONSOLE_ADMIN, for each account this target has."""
        accounts = self.accounts()
        return {need for need, account in ((TEST_USER, accounts.user), (CONSOLE_ADMIN, accounts.admin)) if account}

    def service_log(self, service: str, since: str) -> str | None:
        """A service's log since an RFC 3339 time, secrets masked; None where the target cannot read logs."""
        return None

    # --- containers (targets with CONTAINERS) ----------------------------------------------------------------------
    def services(self) -> list[ServiceState]:
        raise Unsupported(self.why_not(CONTAINERS))

    @property
    def expected_services(self) -> list[str]:
        raise Unsupported(self.why_not(CONTAINERS))

    def exec(self, service: str, argv: list[str], timeout_s: float = 15) -> subprocess.CompletedProcess[str]:
        raise Unsupported(self.why_not(CONTAINERS))

    # --- published ports (targets with HOST_PORTS) -----------------------------------------------------------------
    def published(self, service: str, container_port: int) -> tuple[str, int]:
        raise Unsupported(self.why_not(HOST_PORTS))


@dataclass(frozen=True)
class TargetOptions:
    """What the command line says about the target (the options of lobestack's pytest plugin, plugin/__init__.py)."""

    deployment: str | None = None
    images: str = "reference"  # the compose target's image set (images.IMAGE_SETS)
    keep: bool = False
    resolve: tuple[str, ...] = ()
    ca_file: str | None = None
    allow_writes: bool = False
    mask: Any = None  # the run's Redactor: secrets of a given deployment are masked before it is parsed
    # --exposure-address: where the outside checks knock instead of the names' own addresses.
    exposure_addresses: tuple[str, ...] = ()
    # The run's resolver (names looked up once per run: the first report line and the DNS check share it).
    resolver: object | None = None
