"""Values that are public: placeholders and the secrets published in LobeChat's and Logto's examples.

A deployment started from those examples keeps them more often than one would hope. They are not secrets (anyone can
read them), so they are not masked in reports (a placeholder masked everywhere ate words like SECRET and PASSWORD);
they are findings: ENV-SECRET-STRENGTH names the value and where it was published.

Each published value is recorded with the repository, path and commit it was read from."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    title: str  # how a finding names it: "LobeChat's .env.example"
    repository: str
    path: str
    commit: str


@dataclass(frozen=True)
class KnownValue:
    value: str
    source: Source | None  # None: a placeholder by its shape, or a default everyone knows

    def describe(self) -> str:
        """How a finding says it: "a placeholder copied from LobeChat's .env.example (YOUR_LOGTO_SECRET)"."""
        if self.source is not None:
            return f"a placeholder copied from {self.source.title} ({self.value})"
        return f"a placeholder or well-known default ({self.value})"


LOBECHAT_ENV_EXAMPLE = Source(
    "LobeChat's .env.example",
    "lobehub/lobe-chat",
    "docker-compose/production/logto/.env.example",
    "286b3fd879157220ef5db292f877084a77b35edd",
)
LOBECHAT_COMPOSE_EXAMPLE = Source(
    "LobeChat's example docker-compose.yml",
    "lobehub/lobe-chat",
    "docker-compose/production/logto/docker-compose.yml",
    "b2c8b5c0f232f86962e9e6f0ddf4756820074d10",
)
LOGTO_COMPOSE_EXAMPLE = Source(
    "Logto's example docker-compose.yml",
    "logto-io/logto",
    "docker-compose.yml",
    "79bf5bde6035dbf2f6e42614738a04cf5a88d277",
)
LOGTO_COMPOSE_BOOTSTRAP = Source(
    "Logto's example docker-compose.yml",
    "logto-io/logto",
    "docker-compose.yml",
    "0a82a96276bb4c3edeaa992ac8ae466791a21a3c",
)

# The secret values of those files, as published (the .zh-CN.example of LobeChat, at commit
# 01e3203dafb13812b8e9784fee55fbd631f73d77, holds the same ones).
PUBLISHED: dict[str, Source] = {
    # KEY_VAULTS_SECRET, NEXT_AUTH_SECRET, the password in DATABASE_URL, AUTH_LOGTO_ID/SECRET, the S3 keys
    "Kix2wcUONd4CX51E/ZPAd36BqM4wzJgKjPtz2sGztqQ=": LOBECHAT_ENV_EXAMPLE,
    "NX2kaPE923dt6BL2U8e9oSre5RfoT7hg": LOBECHAT_ENV_EXAMPLE,
    "uWNZugjBqixf8dxC": LOBECHAT_ENV_EXAMPLE,
    "YOUR_LOGTO_ID": LOBECHAT_ENV_EXAMPLE,
    "YOUR_LOGTO_SECRET": LOBECHAT_ENV_EXAMPLE,
    "YOUR_S3_ACCESS_KEY_ID": LOBECHAT_ENV_EXAMPLE,
    "YOUR_S3_SECRET_ACCESS_KEY": LOBECHAT_ENV_EXAMPLE,
    # the MinIO root account (POSTGRES_PASSWORD and Logto's DB_URL repeat uWNZugjBqixf8dxC)
    "YOUR_MINIO_USER": LOBECHAT_COMPOSE_EXAMPLE,
    "YOUR_MINIO_PASSWORD": LOBECHAT_COMPOSE_EXAMPLE,
    # POSTGRES_PASSWORD and the password in DB_URL
    "p0stgr3s": LOGTO_COMPOSE_EXAMPLE,
    # the bootstrap admin, application and SMTP passwords of the later version
    "MySecureP@ssword123": LOGTO_COMPOSE_BOOTSTRAP,
    "my-super-secret-key-1234": LOGTO_COMPOSE_BOOTSTRAP,
    "smtp-password": LOGTO_COMPOSE_BOOTSTRAP,
}

# Defaults and words that people leave in, compared without case.
WELL_KNOWN = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "minioadmin",
        "minio123",
        "password",
        "passw0rd",
        "secret",
        "admin",
        "root",
        "test",
        "postgres",
        "logto",
        "lobe",
        "default",
        "123456",
        "12345678",
        "123456789",
        "1234567890",
    }
)
# Values that are placeholders by their shape alone: YOUR_…, <…>, xxxx.
_PLACEHOLDER_SHAPE = re.compile(r"(?i)your[-_][a-z0-9_-]*|<[^<>]*>|x{3,}|\*{3,}")


def known_value(value: str) -> KnownValue | None:
    """The value as a public one, with where it comes from; None for anything else (a value that merely contains a
    placeholder's word is no public value: it is still a secret, and masked)."""
    if value in PUBLISHED:
        return KnownValue(value, PUBLISHED[value])
    if value.lower() in WELL_KNOWN or _PLACEHOLDER_SHAPE.fullmatch(value):
        return KnownValue(value, None)
    return None


def is_public(value: str) -> bool:
    return known_value(value) is not None
