"""The running services report the versions the compose file pins — where they expose one to an anonymous client.

What each product exposes (a table, so that a source found later is one row):
- Logto: `GET <ENDPOINT>/api/swagger.json` → `info.version`. Upstream Logto OSS sets it to "Cloud" in its base
  document (packages/core/src/routes/swagger/utils/documents.ts), so a real 1.37.1 usually gives no release
  number there: the check then reports itself skipped, saying so.
- LobeChat 1.x: no version route for anonymous clients is known (skipped, saying so).
The reference stand-ins expose none either (the Logto stand-in answers 501 there): the check skips on them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lobestack.checks.faults import SiteEdit, fault
from lobestack.checks.registry import CheckSkipped, Finding, Group
from lobestack.probes import ProbeError
from lobestack.targets.target import Target

GROUP = Group("VERSION", layer="prod", title="Running versions")
_RELEASE = re.compile(r"^v?(\d+\.\d+\.\d+)$")


@dataclass(frozen=True)
class Source:
    product: str
    role: str  # the Deployment attribute of the service (lobe, logto)
    origin_key: str  # the .env URL the path is asked at
    path: str | None  # None: the product exposes no version to anonymous clients
    why_none: str = ""


SOURCES = (
    Source("Logto", "logto", "LOGTO_ENDPOINT", "/api/swagger.json"),
    Source("LobeChat", "lobe", "APP_URL", None, "LobeChat 1.x exposes no version to anonymous clients"),
)


def pinned(image_tag: str | None) -> str | None:
    match = _RELEASE.match(image_tag or "")
    return match.group(1) if match else None


def _reported(target: Target, source: Source) -> tuple[str | None, str]:
    """(the version the service reports, or None with why not)."""
    if source.path is None:
        return None, source.why_none
    url = target.deployment.env.get(source.origin_key).rstrip("/") + source.path
    try:
        response = target.http.get(url)
    except ProbeError as exc:
        return None, f"{source.product}: GET {url}: {exc}"
    try:
        version = str((json.loads(response.body).get("info") or {}).get("version", ""))
    except (ValueError, AttributeError):
        return None, f"{source.product}: GET {url} answered {response.status} without a JSON document"
    match = _RELEASE.match(version)
    if response.status != 200 or not match:
        return None, f"{source.product}: GET {url} answered {response.status} with version {version!r}, not a release"
    return match.group(1), url


@GROUP.check(
    "VERSION-PINNED",
    title="the running Logto and LobeChat report the release the compose file pins (where they expose one; "
    "skipped, saying why, where they do not)",
    fix="the service runs another release than the compose file says: `docker compose pull && docker compose up -d` "
    "on the server, or pin the release that runs (and deploy its alterations: Logto)",
    faults=[
        fault(
            SiteEdit(
                "auth.conf",
                "    location = /admin {",
                "    location = /api/swagger.json { default_type application/json; "
                'return 200 \'{"info":{"version":"1.36.0"}}\'; }\n\n    location = /admin {',
            ),
            expect="Logto reports 1.36.0",
        )
    ],
    impact="advice",
)
def versions(target: Target) -> Iterator[Finding]:
    compared, reasons = 0, []
    for source in SOURCES:
        service = getattr(target.deployment, source.role)
        expected = pinned(service.image_tag) if service is not None else None
        if expected is None:
            reasons.append(f"{source.product}: the compose file pins no release tag")
            continue
        version, where = _reported(target, source)
        if version is None:
            reasons.append(where)
            continue
        compared += 1
        if version != expected:
            yield Finding(f"{source.product} reports {version} ({where}); the compose file pins {service.image}")
    if not compared:
        raise CheckSkipped("no service exposes its version: " + "; ".join(reasons))
