"""Server-side reach: fetch URLs from inside a service's container with its own node runtime, so the container's
name resolution and trust (NODE_EXTRA_CA_CERTS) apply exactly as when the app calls them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lobestack.probes import ProbeError

# Prints one JSON line: [{url, status}|{url, error}], each fetch bounded.
_SCRIPT = (
    "const urls=JSON.parse(process.argv[1]);"
    "Promise.all(urls.map(u=>fetch(u,{redirect:'manual',signal:AbortSignal.timeout(8000)})"
    ".then(r=>({url:u,status:r.status}),e=>({url:u,error:String((e.cause&&(e.cause.code||e.cause.message))"
    "||e.message)+' ('+e.message+')'}))))"
    ".then(r=>console.log(JSON.stringify(r)))"
)


class ContainerFetchError(ProbeError):
    """The container's node runtime gave no answer at all (not: a URL it could not fetch)."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int | None
    error: str | None


def fetch_from(target: Any, service: str, urls: list[str]) -> list[Fetched]:
    result = target.exec(service, ["node", "-e", _SCRIPT, json.dumps(urls)], timeout_s=20)
    last = (result.stdout.strip().splitlines() or [""])[-1]
    try:
        rows = json.loads(last)
    except ValueError:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ContainerFetchError(
            f"node in {service} did not answer: {detail[-1] if detail else result.returncode}"
        ) from None
    return [Fetched(r["url"], r.get("status"), r.get("error")) for r in rows]
