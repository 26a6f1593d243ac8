"""Fresh secrets for a new deployment, each in the format its consumer requires.

Every one is safe for every consumer it could meet: URL user info (DATABASE_URL, Logto's DB_URL), a shell word,
Compose interpolation, `mc` and dotenv. Letters and digits only (KEY_VAULTS_SECRET: base64 without `+` or `/`),
so never a leading `-`, a `$`, a quote or a URL delimiter; each with at least the entropy of the URL-safe token it
replaces."""

from __future__ import annotations

import base64
import math
import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def token(bits: int = 256) -> str:
    """Random letters and digits carrying at least `bits` bits (256: 43 characters, 192: 33)."""
    length = math.ceil(bits / math.log2(len(_ALNUM)))
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def key_vaults_secret() -> str:
    """LobeChat's KEY_VAULTS_SECRET: base64 of exactly 32 random bytes, drawn again until the text has no `+`
    or `/` (about 1 draw in 4 qualifies). LobeChat fixes the length, so this one keeps 254 of the 256 bits: the
    price of a value that is safe in a URL too."""
    while True:
        text = base64.b64encode(secrets.token_bytes(32)).decode()
        if "+" not in text and "/" not in text:
            return text


def access_key_id() -> str:
    return "".join(secrets.choice(_UPPER_ALNUM) for _ in range(20))


def secret_access_key() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(40))


def generate() -> dict[str, str]:
    return {
        "NEXT_AUTH_SECRET": token(256),
        "KEY_VAULTS_SECRET": key_vaults_secret(),
        "LOBE_DB_PASSWORD": token(192),
        "LOGTO_DB_PASSWORD": token(192),
        "MINIO_ROOT_USER": "lobestack-" + secrets.token_hex(4),
        "MINIO_ROOT_PASSWORD": token(192),
        "S3_ACCESS_KEY_ID": access_key_id(),
        "S3_SECRET_ACCESS_KEY": secret_access_key(),
    }
