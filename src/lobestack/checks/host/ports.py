"""Listening ports on the host (testinfra's socket module, and Docker's own port bindings): the deployment's
internal ports on loopback only, and nothing else on a public address but SSH, HTTP(S) and the console port."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Listen, Recreate, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes.host import HostFacts, HostProbeError, is_loopback

GROUP = Group("HOST-PORTS", layer="host", title="Listening ports", impact="exposure")
BASE_PUBLIC_PORTS = (22, 80, 443)


def console_port(facts: HostFacts) -> int:
    origin = facts.deployment.origin("LOGTO_ADMIN_ENDPOINT")
    if origin is not None:
        return origin.port
    value = facts.deployment.env.get("LOGTO_ADMIN_PORT")
    return int(value) if value.isdigit() else 8443


def public_ports_allowed(facts: HostFacts) -> set[int]:
    return {*BASE_PUBLIC_PORTS, console_port(facts), *facts.context.allow_public_ports}


@GROUP.check(
    "HOST-PORTS-INTERNAL",
    title="every port the deployment publishes listens on 127.0.0.1 only (sockets on the host, and Docker's bindings)",
    fix='publish internal ports on loopback only ("127.0.0.1:HOST:CONTAINER") in docker-compose.yml, then '
    "`docker compose up -d`; Docker's published ports bypass ufw",
    faults=[
        fault(
            Recreate("docker-compose.yml", '"127.0.0.1:23210:3210"', '"0.0.0.0:23210:3210"', ("lobe",)),
            expect="port 23210 (lobe) listens on 0.0.0.0",
        )
    ],
)
def internal(facts: HostFacts) -> Iterator[Finding]:
    ports = facts.internal_ports()
    reported = set()
    try:
        listening = facts.listening_tcp()
    except HostProbeError as exc:
        yield Finding(str(exc))
        listening = []
    for address, port in listening:
        if port in ports and not is_loopback(address):
            reported.add(port)
            yield Finding(f"port {port} ({ports[port]}) listens on {address}: internal ports belong on 127.0.0.1 only")
    try:
        containers = facts.containers()
    except HostProbeError as exc:
        yield Finding(str(exc))
        return
    for c in containers:
        for b in c.bindings:
            if not is_loopback(b.host_ip) and b.host_port not in reported:
                reported.add(b.host_port)
                yield Finding(f"{c.short} publishes {b.container_port} on {b.host_ip}:{b.host_port}, not on 127.0.0.1")


@GROUP.check(
    "HOST-PORTS-PUBLIC",
    title="only 22, 80, 443 and the console port (and --allow-public-port) listen on public addresses",
    fix="bind the service to 127.0.0.1 or stop it; where it must stay public, say so with --allow-public-port PORT",
    faults=[fault(Listen("0.0.0.0"), expect="listens on a public address 0.0.0.0: only 22, 80, 443")],
)
def public(facts: HostFacts) -> Iterator[Finding]:
    listening = facts.listening_tcp()
    allowed = public_ports_allowed(facts)
    internal_ports = facts.internal_ports()  # HOST-PORTS-INTERNAL reports those
    for address, port in listening:
        if not is_loopback(address) and port not in allowed and port not in internal_ports:
            yield Finding(
                f"port {port} listens on a public address {address}: only {', '.join(map(str, sorted(allowed)))} may"
            )
