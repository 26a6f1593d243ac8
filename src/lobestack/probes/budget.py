"""What a run sends to the deployment: one counter, fed by every probe that goes on the wire (HTTP requests, TLS
handshakes, TCP connects, DNS look-ups), read by the report (summary.json `requests`) and held to a budget."""

from __future__ import annotations

import threading
from collections import Counter

KINDS = ("http", "tls", "tcp", "dns")


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self._counts[kind] += n

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def by_kind(self) -> dict[str, int]:
        with self._lock:
            return {kind: self._counts.get(kind, 0) for kind in KINDS}


# One per process: a run is one pytest process, and its report reads this.
REQUESTS = RequestCounter()
