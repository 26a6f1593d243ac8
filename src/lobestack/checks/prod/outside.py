"""Seen from outside: no internal port answers on a public address, and nothing is served over plain HTTP where
only a redirect to https (or a refusal) belongs."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Recreate, SiteEdit, fault
from lobestack.checks.registry import CheckSkipped, Finding, Group
from lobestack.checks.stack.expose import INTERNAL_PORTS
from lobestack.probes import ProbeError
from lobestack.probes.ports import open_ports
from lobestack.targets.target import Target

GROUP = Group("OUTSIDE", layer="prod", title="Seen from outside", impact="exposure")
# The services' own ports, in case one is published unchanged ("5432:5432"): PostgreSQL, MinIO API and console,
# Logto core and admin, LobeChat, Ollama.
SERVICE_PORTS = {5432: "PostgreSQL", 9000: "MinIO API", 9001: "MinIO console", 3001: "Logto core"}
SERVICE_PORTS |= {3002: "Logto admin", 3210: "LobeChat", 11434: "Ollama"}
CONNECT_TIMEOUT_S = 2.0
# Nginx answers a plain HTTP request on a TLS port with 400 ("The plain HTTP request was sent to HTTPS port"); a
# server may also redirect it to https. Anything else serves the console without TLS.
PLAIN_ON_TLS_PORT_OK = (400,)


def internal_ports(target: Target) -> dict[int, str]:
    """Every port that must stay closed from outside, with what it is."""
    ports: dict[int, str] = {p: "a bundle port" for p in INTERNAL_PORTS}
    ports |= SERVICE_PORTS
    for service in target.deployment.compose.services.values():
        for binding in service.ports:
            if binding.host_port is not None:
                ports[binding.host_port] = f"published by {service.name}"
    return dict(sorted(ports.items()))


@GROUP.check(
    "OUTSIDE-INTERNAL-PORTS",
    title="no internal port (databases, MinIO API and console, Logto core and admin, LobeChat, Ollama: published "
    "and standard ports) accepts a connection on any public address (bounded connects, in parallel)",
    fix='publish every internal port on loopback only ("127.0.0.1:HOST:CONTAINER") and keep the firewall closed '
    "except 80, 443 and the console port; Docker's published ports bypass ufw",
    faults=[
        fault(
            Recreate("docker-compose.yml", '"127.0.0.1:29001:9001"', '"0.0.0.0:29001:9001"', ("minio", "minio-init")),
            expect=":29001 accepts connections (published by minio)",
        )
    ],
    supersedes=["EXPOSE-INTERNAL-PORTS"],
)
def internal(target: Target) -> Iterator[Finding]:
    addresses = target.exposure_addresses()
    if not addresses:
        raise CheckSkipped(
            "the public names resolve to loopback only: give --exposure-address with the server's public address"
        )
    ports = internal_ports(target)
    pairs = [(address, port) for address in addresses for port in ports]
    for address, port in open_ports(pairs, timeout_s=min(CONNECT_TIMEOUT_S, target.timeout_s)):
        shown = f"[{address}]" if ":" in address else address
        yield Finding(f"{shown}:{port} accepts connections ({ports[port]}): an internal port is reachable from outside")


def _is_https_redirect(status: int, location: str | None) -> bool:
    return status in (301, 308) and bool(location) and str(location).startswith("https://")


@GROUP.check(
    "OUTSIDE-PLAIN-HTTP",
    title="plain HTTP to the console and S3 names answers 301 to https, and nothing answers plain HTTP on the "
    "console's TLS port",
    fix="a port-80 server per name that only `return 301 https://$host$request_uri;`; never serve the console port "
    "without TLS (no `error_page 497` that proxies, no plain `listen` on it): the console needs HTTPS",
    faults=[
        fault(
            SiteEdit(
                "auth.conf",
                "    proxy_buffering off;\n    proxy_read_timeout 120s;\n\n    location / {\n"
                "        proxy_pass http://127.0.0.1:23002;",
                "    proxy_buffering off;\n    proxy_read_timeout 120s;\n    error_page 497 = @plain;\n\n"
                "    location @plain {\n        proxy_pass http://127.0.0.1:23002;\n    }\n\n    location / {\n"
                "        proxy_pass http://127.0.0.1:23002;",
            ),
            expect="over plain HTTP on the console port",
        ),
        fault(
            SiteEdit(
                "s3.conf",
                "    return 301 https://$host$request_uri;",
                "    location / { proxy_pass http://127.0.0.1:29000; proxy_set_header Host $http_host; }",
            ),
            expect="http://s3.test/: answered 403 over plain HTTP",
        ),
    ],
)
def plain_http(target: Target) -> Iterator[Finding]:
    admin = target.deployment.origin("LOGTO_ADMIN_ENDPOINT")
    s3 = target.deployment.origin("S3_ENDPOINT")
    http = target.http
    # Port 80 of the console's and S3's names: a redirect to https, nothing else.
    for url in ([f"http://{admin.host}/console"] if admin else []) + ([f"http://{s3.host}/"] if s3 else []):
        try:
            response = http.get(url)
        except ProbeError as exc:
            yield Finding(f"GET {url}: {exc}")
            continue
        location = response.header("location")
        if not _is_https_redirect(response.status, location):
            yield Finding(
                f"{url}: answered {response.status} over plain HTTP (Location {location!r}), expected a 301 to https"
            )
    # The console's own port speaks TLS only: plain HTTP there is refused, or redirected to https.
    if admin is not None and admin.scheme == "https":
        url = f"http://{admin.host}:{admin.port}/console"
        try:
            response = http.get(url)
        except ProbeError:
            return  # closed or reset: nothing answers plain HTTP there
        location = response.header("location")
        if response.status not in PLAIN_ON_TLS_PORT_OK and not _is_https_redirect(response.status, location):
            yield Finding(
                f"{url}: answered {response.status} over plain HTTP on the console port (Location {location!r}): "
                "the console is served without TLS"
            )
