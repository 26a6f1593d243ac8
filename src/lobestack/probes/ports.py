"""Is anything listening? Bounded TCP connects, tried in parallel."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor

from lobestack.probes.budget import REQUESTS


def is_open(address: str, port: int, timeout_s: float = 1.5) -> bool:
    REQUESTS.count("tcp")
    try:
        with socket.create_connection((address, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def open_ports(pairs: list[tuple[str, int]], timeout_s: float = 1.5) -> list[tuple[str, int]]:
    if not pairs:
        return []
    with ThreadPoolExecutor(max_workers=min(32, len(pairs))) as pool:
        results = list(pool.map(lambda p: is_open(p[0], p[1], timeout_s), pairs))
    return [pair for pair, found in zip(pairs, results, strict=True) if found]
