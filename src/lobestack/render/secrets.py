"""Fresh secrets for a new deployment, each in the format its consumer requires."""

from __future__ import annotations

import base64
import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def token(nbytes: int = 32) -> str:
    """URL-safe random text (no `$`, quotes or `#`, so it is safe bare in .env and in URLs)."""
    return secrets.token_urlsafe(nbytes)


def key_vaults_secret() -> str:
    """LobeChat's KEY_VAULTS_SECRET: base64 of exactly 32 random bytes."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def access_key_id() -> str:
    return "".join(secrets.choice(_UPPER_ALNUM) for _ in range(20))


def secret_access_key() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(40))


def generate() -> dict[str, str]:
    return {
        "NEXT_AUTH_SECRET": token(32),
        "KEY_VAULTS_SECRET": key_vaults_secret(),
        "LOBE_DB_PASSWORD": token(24),
        "LOGTO_DB_PASSWORD": token(24),
        "MINIO_ROOT_USER": "lobestack-" + secrets.token_hex(4),
        "MINIO_ROOT_PASSWORD": token(24),
        "S3_ACCESS_KEY_ID": access_key_id(),
        "S3_SECRET_ACCESS_KEY": secret_access_key(),
    }
