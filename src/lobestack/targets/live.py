"""The `live` target: an existing deployment (staging, production), described by its deployment directory and
reached at its public URLs. Read-only unless --allow-writes; names may be pinned like `curl --resolve` (SNI and
certificate verification unchanged). It cannot exec in containers or read published ports: checks that need those
are reported skipped, with the reason."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from pathlib import Path

from lobestack.deployment import Deployment, load_deployment
from lobestack.errors import BadInput
from lobestack.probes.dns import Resolution, Resolver
from lobestack.probes.http import HttpProbe
from lobestack.targets.target import (
    CONSOLE_ADMIN,
    LOBECHAT_APP,
    TEST_USER,
    WRITES,
    Account,
    Accounts,
    Target,
    TargetOptions,
)

# Bounded everywhere: a dead address gives every check's verdict quickly.
LIVE_TIMEOUT_S = 4.0
# The browser flows' accounts on a live deployment: from the environment only, never from files in the repo.
USER_VARS = ("LOBESTACK_E2E_USER", "LOBESTACK_E2E_PASSWORD")
ADMIN_VARS = ("LOBESTACK_E2E_ADMIN_USER", "LOBESTACK_E2E_ADMIN_PASSWORD")


def _account(names: tuple[str, str]) -> Account | None:
    user, password = (os.environ.get(n, "") for n in names)
    return Account(user, password) if user and password else None


def parse_resolve(items: list[str]) -> dict[str, str]:
    """`NAME:ADDR` pairs (curl's `--resolve NAME:PORT:ADDR` is accepted too; the port is ignored)."""
    pinned = {}
    for item in items:
        parts = item.split(":")
        if len(parts) == 3 and parts[1].isdigit():
            parts = [parts[0], parts[2]]
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise BadInput(f"--resolve {item!r}: expected NAME:ADDRESS")
        try:
            ipaddress.ip_address(parts[1])
        except ValueError:
            raise BadInput(f"--resolve {item!r}: {parts[1]!r} is not an IP address") from None
        pinned[parts[0].lower()] = parts[1]
    return pinned


class LiveTarget(Target):
    name = "live"
    resolves_names = True

    def __init__(
        self,
        deployment: Deployment,
        *,
        resolve: dict[str, str] | None = None,
        ca_file: Path | None = None,
        allow_writes: bool = False,
        timeout_s: float = LIVE_TIMEOUT_S,
        exposure: tuple[str, ...] = (),
        resolver: Resolver | None = None,
    ) -> None:
        self.deployment = deployment
        self.resolve = resolve or {}
        self.resolver = resolver or Resolver(self.resolve)
        self.exposure = tuple(exposure)
        self._ca_file = ca_file
        self.timeout_s = timeout_s
        self.allow_writes = allow_writes
        self.run_id = "live"

    @classmethod
    def open(cls, options: TargetOptions, progress: Callable[[str], None]) -> LiveTarget:
        if not options.deployment:
            raise BadInput("--target live needs --deployment DIR (the deployment's .env names its public URLs)")
        if options.ca_file is not None and not Path(options.ca_file).is_file():
            raise BadInput("--ca-file: not a readable file", options.ca_file)
        for address in options.exposure_addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise BadInput(f"--exposure-address {address!r}: not an IP address") from None
        resolver = options.resolver if isinstance(options.resolver, Resolver) else None
        return cls(
            load_deployment(Path(options.deployment), mask=options.mask),
            resolve=parse_resolve(list(options.resolve)),
            ca_file=Path(options.ca_file) if options.ca_file else None,
            allow_writes=options.allow_writes,
            exposure=tuple(options.exposure_addresses),
            resolver=resolver,
        )

    @property
    def label(self) -> str:
        pinned = ", ".join(f"{n}->{a}" for n, a in sorted(self.resolve.items()))
        mode = "read-write" if WRITES in self.capabilities else "read-only"
        return f"{self.deployment.root} ({mode}{'; ' + pinned if pinned else ''})"

    @property
    def capabilities(self) -> frozenset[str]:  # type: ignore[override]
        writes = {WRITES} if self.allow_writes else set()
        return frozenset({LOBECHAT_APP} | writes | self.account_capabilities())

    def accounts(self) -> Accounts:
        return Accounts(user=_account(USER_VARS), admin=_account(ADMIN_VARS))

    def name_pins(self) -> dict[str, str]:
        return dict(self.resolve)

    @property
    def ca_file(self) -> Path | None:
        return self._ca_file

    @property
    def http(self) -> HttpProbe:
        # Public names go through the run's resolver (looked up once, counted); pins win.
        resolved = {name: self.address(name) for name in self.public_names()}
        return HttpProbe(resolve={**resolved, **self.resolve}, ca_file=self._ca_file, timeout_s=self.timeout_s)

    def address(self, host: str) -> str:
        found = self.resolver.resolve(host)
        return found.addresses[0] if found.addresses else host

    def resolution(self, name: str) -> Resolution:
        return self.resolver.resolve(name)

    def why_not(self, need: str) -> str:
        if need == WRITES:
            return "target live is read-only: give --allow-writes to let this check write (and remove) its objects"
        if need == TEST_USER:
            return f"no test user: set {' and '.join(USER_VARS)} (an account of LobeChat's Logto)"
        if need == CONSOLE_ADMIN:
            return f"no console administrator: set {' and '.join(ADMIN_VARS)} (an account of Logto's console)"
        return super().why_not(need) + " (run it on the server itself, or against the compose target)"

    def exposure_addresses(self) -> list[str]:
        """--exposure-address when given (the server's own address behind a proxy or CDN, or, in lobestack's own
        tests, Docker's bridge gateway), else every non-loopback address the public names resolve to."""
        if self.exposure:
            return list(self.exposure)
        found = []
        for name in self.public_names():
            for address in self.resolution(name).addresses:
                try:
                    if ipaddress.ip_address(address).is_loopback:
                        continue
                except ValueError:
                    continue
                if address not in found:
                    found.append(address)
        return found
