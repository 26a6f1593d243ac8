"""The deployment the suites use when none is given, and the one the ephemeral stack runs: the bundle rendered
for the test domains, with fresh secrets and a generated Logto client (the reference Logto registers it)."""

from __future__ import annotations

import secrets
import string
from pathlib import Path

from lobestack.render.bundle import Settings, render

APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN = "lobe.test", "auth.test", "s3.test"


def ephemeral_settings(**overrides: object) -> Settings:
    alphabet = string.ascii_lowercase + string.digits
    values: dict[str, object] = {
        "app_domain": APP_DOMAIN,
        "auth_domain": AUTH_DOMAIN,
        "s3_domain": S3_DOMAIN,
        "logto_client_id": "".join(secrets.choice(alphabet) for _ in range(21)),
        "logto_client_secret": "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32)),
        "project_name": "lobestack-ephemeral",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def render_ephemeral(out: Path, **overrides: object) -> Settings:
    settings = ephemeral_settings(**overrides)
    render(settings, out)
    return settings
