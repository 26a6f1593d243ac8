"""Public values (placeholders, the secrets LobeChat's and Logto's examples publish) are findings, never masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.deployment.envfile import parse_env_text, raw_secret_values
from lobestack.deployment.known_values import LOBECHAT_ENV_EXAMPLE, PUBLISHED, known_value


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("YOUR_LOGTO_SECRET", "a placeholder copied from LobeChat's .env.example (YOUR_LOGTO_SECRET)"),
        (
            "YOUR_MINIO_PASSWORD",
            "a placeholder copied from LobeChat's example docker-compose.yml (YOUR_MINIO_PASSWORD)",
        ),
        ("p0stgr3s", "a placeholder copied from Logto's example docker-compose.yml (p0stgr3s)"),
        ("ChangeMe", "a placeholder or well-known default (ChangeMe)"),
        ("minioadmin", "a placeholder or well-known default (minioadmin)"),
        ("your-db-password", "a placeholder or well-known default (your-db-password)"),
        ("<client secret>", "a placeholder or well-known default (<client secret>)"),
    ],
)
def test_public_values_say_where_they_come_from(value: str, said: str) -> None:
    known = known_value(value)
    assert known is not None and known.describe() == said


@pytest.mark.parametrize("value", ["myYOUR_LOGTO_SECRET", "changeme-Zx9kQ2mP7vL4", "8f3c2a9d0b7e4f16", "passwords!"])
def test_a_value_that_merely_contains_a_placeholder_is_a_secret(value: str) -> None:
    assert known_value(value) is None


def test_published_values_are_recorded_with_their_commit() -> None:
    assert PUBLISHED["YOUR_LOGTO_SECRET"] is LOBECHAT_ENV_EXAMPLE
    assert all(len(s.commit) == 40 and s.repository and s.path for s in PUBLISHED.values())


def test_public_values_are_not_registered_as_secrets() -> None:
    text = (
        "AUTH_LOGTO_SECRET=YOUR_LOGTO_SECRET\n"
        "MINIO_ROOT_PASSWORD='YOUR_MINIO_PASSWORD'\n"
        'LOBE_DB_PASSWORD="changeme"\n'
        "NEXT_AUTH_SECRET=8f3c2a9d0b7e4f16a5c3d2e1f0a9b8c7\n"
    )
    assert parse_env_text(text, Path(".env")).secret_values() == ["8f3c2a9d0b7e4f16a5c3d2e1f0a9b8c7"]
    assert raw_secret_values(text) == ["8f3c2a9d0b7e4f16a5c3d2e1f0a9b8c7"] * 2


def test_url_passwords_are_secrets_whatever_the_key() -> None:
    """LobeChat's layout puts the database password in DATABASE_URL, a name no secret pattern matches."""
    text = (
        "DATABASE_URL=postgresql://postgres:Zx9kQ2%2FmP7@postgresql:5432/lobe\n"
        "DB_URL='postgres://logto:ab/cd@ef9Q@db:5432/logto'\n"
        "EXAMPLE_URL=postgresql://postgres:uWNZugjBqixf8dxC@postgresql:5432/lobe\n"
        "APP_URL=https://lobe.example.com\n"
    )
    expected = ["Zx9kQ2%2FmP7", "Zx9kQ2/mP7", "ab/cd@ef9Q"]
    assert parse_env_text(text, Path(".env")).secret_values() == expected
    assert raw_secret_values(text) == expected
