"""Every service is healthy, and every public name answers through Nginx over TLS and reaches its own service."""

from __future__ import annotations

import json
from collections.abc import Iterator

from lobestack.checks.faults import Pause, SiteEdit, fault
from lobestack.checks.registry import Finding, Group
from lobestack.checks.stack.oidc import CONSOLE_HOST_WITHOUT_PORT
from lobestack.probes import ProbeError
from lobestack.probes.oidc import discover
from lobestack.targets.target import CONTAINERS, Target

GROUP = Group("STACK", layer="stack", title="Services and public names", impact="breaks")


def _json_with_key(target: Target, url: str, key: str, what: str) -> Iterator[Finding]:
    """GET `url`; a finding unless it answers 200 with a JSON object holding `key`."""
    try:
        response = target.http.get(url)
    except ProbeError as exc:
        yield Finding(f"GET {url}: {exc}")
        return
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if response.status != 200 or not isinstance(data, dict) or key not in data:
        yield Finding(f"GET {url}: {response.status}, expected 200 with {what}; got {response.text[:120]!r}")


def _dead_port(file: str, port: int) -> SiteEdit:
    return SiteEdit(file, f"proxy_pass http://127.0.0.1:{port};", "proxy_pass http://127.0.0.1:23299;")


@GROUP.check(
    "STACK-SERVICES-HEALTHY",
    title="every service is running and healthy (one-shot jobs completed with exit 0)",
    fix="read the service's log (reports/<env>/logs/<service>.log, or `docker compose logs <service>`); "
    "`docker compose ps` shows its state and health",
    faults=[fault(Pause("minio"), expect="service minio is paused")],
    needs=[CONTAINERS],
)
def services_healthy(target: Target) -> Iterator[Finding]:
    states = {s.name: s for s in target.services()}
    for name in target.expected_services:
        state = states.get(name)
        if state is None:
            yield Finding(f"service {name} has no container")
        elif not state.ready:
            yield Finding(f"service {name} is {state.state}{' / ' + state.health if state.health else ''}")


@GROUP.check(
    "STACK-VHOST-APP",
    title="APP_URL answers through Nginx over TLS and reaches LobeChat (NextAuth lists logto)",
    fix="check nginx/app.conf (server_name, certificate, proxy_pass to lobe's published port) and `docker compose "
    "logs lobe`",
    faults=[fault(_dead_port("app.conf", 23210), expect="/api/auth/providers: 502")],
)
def vhost_app(target: Target) -> Iterator[Finding]:
    url = f"{target.deployment.public_url('APP_URL')}/api/auth/providers"
    yield from _json_with_key(target, url, "logto", "a logto provider")


@GROUP.check(
    "STACK-VHOST-AUTH",
    title="LOGTO_ENDPOINT answers through Nginx over TLS and reaches Logto core (OIDC discovery)",
    fix="check nginx/auth.conf (the 443 server's proxy_pass to logto's core port 3001) and `docker compose logs logto`",
    faults=[fault(_dead_port("auth.conf", 23001), expect="openid-configuration: 502")],
)
def vhost_auth(target: Target) -> Iterator[Finding]:
    url = f"{target.deployment.public_url('LOGTO_ENDPOINT')}/oidc/.well-known/openid-configuration"
    yield from _json_with_key(target, url, "issuer", "OIDC discovery")


@GROUP.check(
    "STACK-VHOST-ADMIN",
    title="LOGTO_ADMIN_ENDPOINT reaches Logto's admin tenant: its discovery's issuer is ADMIN_ENDPOINT/oidc",
    fix="check the admin server in nginx/auth.conf: its port, `proxy_set_header Host $http_host` and "
    "`X-Forwarded-Host $http_host` (Logto picks the tenant by the origin it sees, port included) and proxy_pass "
    "to logto's admin port 3002",
    faults=[
        fault(*CONSOLE_HOST_WITHOUT_PORT, expect="the default tenant answers on the console origin"),
        fault(_dead_port("auth.conf", 23002), expect="openid-configuration: 502"),
    ],
)
def vhost_admin(target: Target) -> Iterator[Finding]:
    admin = target.deployment.public_url("LOGTO_ADMIN_ENDPOINT")
    document = discover(target.http, f"{admin}/oidc")
    if document.get("issuer") != f"{admin}/oidc":
        yield Finding(
            f"the default tenant answers on the console origin: {admin}/oidc discovery says issuer "
            f"{document.get('issuer')!r}, expected {admin + '/oidc'!r} (the admin tenant)"
        )


@GROUP.check(
    "STACK-VHOST-S3",
    title="S3_ENDPOINT answers through Nginx over TLS and reaches MinIO (/minio/health/live)",
    fix="check nginx/s3.conf (server_name, proxy_pass to minio's published API port) and `docker compose logs minio`",
    faults=[fault(_dead_port("s3.conf", 29000), expect="/minio/health/live: 502")],
)
def vhost_s3(target: Target) -> Iterator[Finding]:
    url = f"{target.deployment.public_url('S3_ENDPOINT')}/minio/health/live"
    try:
        response = target.http.get(url)
    except ProbeError as exc:
        yield Finding(f"GET {url}: {exc}")
        return
    if response.status != 200:
        yield Finding(f"GET {url}: {response.status}, expected 200 from MinIO")
