"""Where a public name points: every address the system resolver gives for it (IPv4 and IPv6), each name looked
up once per run (the run's first line and the DNS check read the same answer)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lobestack.probes.budget import REQUESTS


@dataclass(frozen=True)
class Resolution:
    name: str
    addresses: tuple[str, ...]
    pinned: bool = False  # given on the command line (--resolve), not looked up
    error: str = ""

    def __str__(self) -> str:
        if not self.addresses:
            return f"{self.name}=UNRESOLVED"
        return f"{self.name}={','.join(self.addresses)}{' (pinned)' if self.pinned else ''}"


def system_lookup(name: str) -> tuple[str, ...]:
    """Every address of `name` from the system resolver (getaddrinfo), in its order; OSError when none."""
    REQUESTS.count("dns")
    found: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM):
        if sockaddr[0] not in found:
            found.append(str(sockaddr[0]))
    return tuple(found)


class Resolver:
    """Names pinned like `curl --resolve`, the rest looked up (once) with `lookup`."""

    def __init__(self, pinned: dict[str, str] | None = None, lookup: Callable[[str], tuple[str, ...]] | None = None):
        self.pinned = {k.lower(): v for k, v in (pinned or {}).items()}
        self.lookup = lookup or system_lookup
        self._cache: dict[str, Resolution] = {}
        self._lock = threading.Lock()

    def resolve(self, name: str) -> Resolution:
        name = name.lower()
        if name in self.pinned:
            return Resolution(name, (self.pinned[name],), pinned=True)
        with self._lock:
            if name not in self._cache:
                try:
                    self._cache[name] = Resolution(name, self.lookup(name))
                except OSError as exc:
                    self._cache[name] = Resolution(name, (), error=exc.strerror or str(exc))
            return self._cache[name]
