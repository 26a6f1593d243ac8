"""LobeChat as NextAuth sees itself: its providers and the public URL it sends people back to."""

from __future__ import annotations

import json
from collections.abc import Iterator

from lobestack.checks.faults import EnvSet, fault
from lobestack.checks.registry import Finding, Group
from lobestack.deployment.model import Origin
from lobestack.probes import ProbeError
from lobestack.targets.target import Target

GROUP = Group("LOBE", layer="stack", title="LobeChat")


@GROUP.check(
    "LOBE-PROVIDERS",
    title="/api/auth/providers lists logto, with its callbackUrl on the public APP_URL origin",
    fix="NEXTAUTH_URL = APP_URL + '/api/auth' (the public origin); a wrong one sends people back to 0.0.0.0, "
    "localhost or an internal host after sign-in",
    faults=[
        fault(
            EnvSet("NEXTAUTH_URL", "http://0.0.0.0:3210/api/auth", ("lobe",)),
            expect="callbackUrl 'http://0.0.0.0:3210/api/auth/callback/logto' is not on APP_URL's origin",
        )
    ],
    impact="breaks",
)
def providers(target: Target) -> Iterator[Finding]:
    app = target.deployment.app_env("APP_URL").rstrip("/")
    url = f"{app}/api/auth/providers"
    try:
        response = target.http.get(url)
        data = json.loads(response.body)
    except ProbeError as exc:
        yield Finding(f"GET {url}: {exc}")
        return
    except ValueError:
        yield Finding(f"GET {url}: {response.status}, not JSON: {response.text[:120]!r}")
        return
    logto = data.get("logto") if isinstance(data, dict) else None
    if not isinstance(logto, dict):
        yield Finding(f"GET {url}: no logto provider in {sorted(data) if isinstance(data, dict) else data!r}")
        return
    callback = str(logto.get("callbackUrl", ""))
    if Origin.of(callback) != Origin.of(app):
        yield Finding(f"GET {url}: callbackUrl {callback!r} is not on APP_URL's origin {Origin.of(app)}")
