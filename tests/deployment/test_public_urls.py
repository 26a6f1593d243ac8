"""The live layers reach a deployment by its public URLs: the bundle's `.env` names where the layout has them, else
what the LobeChat and Logto containers get, joined without double slashes (issue 20: `GET /oidc/...: no answer from
:80 (via )` and `https://lobe.example.com//api/auth/providers` on LobeChat's own published layout)."""

from __future__ import annotations

from pathlib import Path

from lobestack.deployment import load_deployment
from lobestack.targets.target import public_names_of

LAYOUTS = Path(__file__).parents[1] / "data" / "layouts"
KEYS = ("APP_URL", "LOGTO_ENDPOINT", "LOGTO_ADMIN_ENDPOINT", "S3_ENDPOINT", "S3_PUBLIC_DOMAIN")


def test_lobechats_example_is_reached_by_what_its_containers_get() -> None:
    d = load_deployment(LAYOUTS / "lobechat-logto-example")
    assert not d.env.get("LOGTO_ENDPOINT")  # the example has none of the bundle's Logto names
    assert [d.public_url(k) for k in KEYS] == [
        "https://lobe.example.com",  # .env says https://lobe.example.com/: no trailing slash to join paths to
        d.auth_env("ENDPOINT").rstrip("/"),
        d.auth_env("ADMIN_ENDPOINT").rstrip("/"),
        "https://lobe-s3-api.example.com",
        "https://lobe-s3-api.example.com",
    ]
    assert public_names_of(d) == [
        "lobe.example.com",
        "lobe-auth-api.example.com",
        "lobe-auth-ui.example.com",
        "lobe-s3-api.example.com",
    ]


def test_the_bundles_env_names_win_where_the_layout_has_them(healthy_dir: Path) -> None:
    d = load_deployment(healthy_dir)
    assert [d.public_url(k) for k in KEYS] == [d.env.get(k) for k in KEYS]


def test_renamed_services_are_found_by_role() -> None:
    d = load_deployment(LAYOUTS / "renamed-services")
    assert d.public_url("LOGTO_ADMIN_ENDPOINT") == "https://auth-admin.example.com"
    assert "auth-admin.example.com" in public_names_of(d)
