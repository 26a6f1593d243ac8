"""Nothing internal answers outside loopback: the databases, MinIO's API and console, Logto's core and admin
ports, LobeChat and Ollama are reached only through Nginx."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Recreate, fault
from lobestack.checks.registry import CheckSkipped, Finding, Group
from lobestack.probes.ports import open_ports
from lobestack.targets.target import Target

GROUP = Group("EXPOSE", layer="stack", title="Exposure of internal ports")
# The bundle's published ports: logto-db, lobe-db, MinIO API and console, Logto core and admin, LobeChat, Ollama.
INTERNAL_PORTS = (25434, 25435, 29000, 29001, 23001, 23002, 23210, 21434)


def internal_ports(target: Target) -> list[int]:
    published = {
        b.host_port for s in target.deployment.compose.services.values() for b in s.ports if b.host_port is not None
    }
    return sorted(published | set(INTERNAL_PORTS))


@GROUP.check(
    "EXPOSE-INTERNAL-PORTS",
    title="no internal port answers on a non-loopback address of the host (compose target: Docker's gateway too)",
    fix='publish internal ports on loopback only ("127.0.0.1:HOST:CONTAINER"), and keep them closed in the '
    "firewall; Docker's published ports bypass ufw",
    faults=[
        fault(
            Recreate("docker-compose.yml", '"127.0.0.1:23210:3210"', '"0.0.0.0:23210:3210"', ("lobe",)),
            expect=":23210 answers",
        )
    ],
    impact="exposure",
)
def internal(target: Target) -> Iterator[Finding]:
    addresses = target.exposure_addresses()
    if not addresses:
        raise CheckSkipped("the public names resolve to loopback only: exposure is judged from a non-loopback address")
    pairs = [(a, p) for a in addresses for p in internal_ports(target)]
    for address, port in open_ports(pairs):
        yield Finding(f"{address}:{port} answers: an internal port is reachable outside loopback")
