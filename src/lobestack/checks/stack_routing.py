"""The first live layer: every public name answers through Nginx over TLS and reaches its own service, and every
service of the stack reports healthy. Each check is proven by a fault injected into the running stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from lobestack.checks.registry import Finding, LiveFault, check
from lobestack.probes.http import ProbeError

# --- faults: changes to a running stack, undone afterwards --------------------------------------------------------


def nginx_edit(file: str, old: str, new: str) -> LiveFault:
    """Edit one rendered site config of the running stack and reload Nginx (and the reverse)."""

    def swap(stack: Any, a: str, b: str) -> None:
        path = stack.root / "nginx" / file
        text = path.read_text(encoding="utf-8")
        if a not in text:
            raise AssertionError(f"stale fault: {a!r} is not in nginx/{file}")
        path.write_text(text.replace(a, b), encoding="utf-8")
        stack.reload_nginx()

    return LiveFault(
        f"nginx/{file}: {old!r} -> {new!r} (reloaded)", lambda s: swap(s, old, new), lambda s: swap(s, new, old)
    )


def paused(service: str) -> LiveFault:
    """Freeze a service; undone by unpausing it and waiting until its healthcheck passes again."""

    def revert(stack: Any) -> None:
        stack.compose_run("unpause", service)
        stack.wait_ready(service)

    return LiveFault(f"`docker compose pause {service}`", lambda s: s.compose_run("pause", service), revert)


# --- checks --------------------------------------------------------------------------------------------------------


def _get(stack: Any, url: str, follow: int = 0) -> tuple[Any | None, Finding | None]:
    try:
        return stack.http.get(url, follow=follow), None
    except ProbeError as exc:
        return None, Finding(f"GET {url}: {exc}")


def _json_with_key(stack: Any, url: str, key: str, what: str) -> Iterator[Finding]:
    """GET `url`; a finding unless it answers 200 with a JSON object holding `key`."""
    response, problem = _get(stack, url)
    if problem:
        yield problem
        return
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if response.status != 200 or not isinstance(data, dict) or key not in data:
        yield Finding(f"GET {url}: {response.status}, expected 200 with {what}; got {response.text[:120]!r}")


@check(
    "STACK-SERVICES-HEALTHY",
    group="stack",
    title="every service is running and healthy (one-shot jobs completed with exit 0)",
    fix="read the service's log (reports/<env>/logs/<service>.log, or `docker compose logs <service>`); "
    "`docker compose ps` shows its state and health",
    faults=[paused("minio")],
)
def services_healthy(stack: Any) -> Iterator[Finding]:
    states = {s.name: s for s in stack.services()}
    for name in stack.expected_services:
        state = states.get(name)
        if state is None:
            yield Finding(f"service {name} has no container")
        elif not state.ready:
            yield Finding(f"service {name} is {state.state}{' / ' + state.health if state.health else ''}")


@check(
    "STACK-VHOST-APP",
    group="stack",
    title="https://APP_DOMAIN answers through Nginx over TLS and reaches LobeChat (NextAuth lists logto)",
    fix="check nginx/app.conf (server_name, certificate, proxy_pass to lobe's published port) and `docker compose "
    "logs lobe`",
    faults=[nginx_edit("app.conf", "proxy_pass http://127.0.0.1:23210;", "proxy_pass http://127.0.0.1:23299;")],
)
def vhost_app(stack: Any) -> Iterator[Finding]:
    yield from _json_with_key(
        stack, f"{stack.deployment.env.get('APP_URL')}/api/auth/providers", "logto", "a logto provider"
    )


@check(
    "STACK-VHOST-AUTH",
    group="stack",
    title="https://AUTH_DOMAIN answers through Nginx over TLS and reaches Logto core (OIDC discovery)",
    fix="check nginx/auth.conf (the 443 server's proxy_pass to logto's core port 3001) and `docker compose logs logto`",
    faults=[nginx_edit("auth.conf", "proxy_pass http://127.0.0.1:23001;", "proxy_pass http://127.0.0.1:23299;")],
)
def vhost_auth(stack: Any) -> Iterator[Finding]:
    url = f"{stack.deployment.env.get('AUTH_LOGTO_ISSUER')}/.well-known/openid-configuration"
    yield from _json_with_key(stack, url, "issuer", "OIDC discovery")


@check(
    "STACK-VHOST-ADMIN",
    group="stack",
    title="LOGTO_ADMIN_ENDPOINT/console answers through Nginx over TLS and reaches the Logto console",
    fix="check the admin server in nginx/auth.conf: its port, `proxy_set_header Host $http_host` (Logto matches "
    "ADMIN_ENDPOINT by origin) and proxy_pass to logto's admin port 3002",
    faults=[nginx_edit("auth.conf", "$http_host;", "$host;")],
)
def vhost_admin(stack: Any) -> Iterator[Finding]:
    url = f"{stack.deployment.env.get('LOGTO_ADMIN_ENDPOINT')}/console"
    response, problem = _get(stack, url, follow=3)
    if problem:
        yield problem
        return
    if response.status != 200 or "/console" not in response.url or "Logto" not in response.text:
        yield Finding(f"GET {url}: ended at {response.url} with {response.status}, expected the Logto console page")


@check(
    "STACK-VHOST-S3",
    group="stack",
    title="S3_ENDPOINT answers through Nginx over TLS and reaches MinIO (/minio/health/live)",
    fix="check nginx/s3.conf (server_name, proxy_pass to minio's published API port) and `docker compose logs minio`",
    faults=[nginx_edit("s3.conf", "proxy_pass http://127.0.0.1:29000;", "proxy_pass http://127.0.0.1:23299;")],
)
def vhost_s3(stack: Any) -> Iterator[Finding]:
    url = f"{stack.deployment.env.get('S3_ENDPOINT')}/minio/health/live"
    response, problem = _get(stack, url)
    if problem:
        yield problem
    elif response.status != 200:
        yield Finding(f"GET {url}: {response.status}, expected 200 from MinIO")
