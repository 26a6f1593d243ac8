"""OIDC facts of an issuer: its discovery document and its key set (joserfc parses the JWKS)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lobestack.probes import ProbeError
from lobestack.probes.http import HttpProbe, Response

# What key an `id_token_signing_alg_values_supported` entry needs: (kty, crv or None).
ALG_KEYS = {
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "EdDSA": ("OKP", None),
}
ENDPOINT_KEYS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint")


class OidcProbeError(ProbeError):
    """The document could not be had or read: `str()` names the URL, the status and what came back."""


def discovery_url(issuer: str) -> str:
    """Where a client looks for the issuer's discovery (as Auth.js's oauth4webapi builds it)."""
    return (issuer + "/.well-known/openid-configuration").replace("//.well-known", "/.well-known")


def _json(response: Response, what: str) -> dict[str, Any]:
    try:
        data = json.loads(response.body)
    except ValueError:
        data = None
    if response.status != 200 or not isinstance(data, dict):
        raise OidcProbeError(
            f"GET {response.url}: {response.status}, expected 200 with {what}; got {response.text[:120]!r}"
        )
    return data


def get_json(http: HttpProbe, url: str, what: str) -> dict[str, Any]:
    try:
        return _json(http.get(url), what)
    except ProbeError as exc:
        raise OidcProbeError(f"GET {url}: {exc}") from None


def discover(http: HttpProbe, issuer: str) -> dict[str, Any]:
    return get_json(http, discovery_url(issuer), "an OIDC discovery document")


@dataclass(frozen=True)
class Keys:
    url: str
    keys: list[dict[str, Any]]

    @property
    def fingerprints(self) -> frozenset[str]:
        return frozenset(
            json.dumps({k: v for k, v in key.items() if k in ("kty", "crv", "x", "y", "n", "e")}, sort_keys=True)
            for key in self.keys
        )

    def has_key_for(self, alg: str) -> bool:
        kty, crv = ALG_KEYS.get(alg, (None, None))
        return any(
            key.get("alg") == alg or (kty and key.get("kty") == kty and (crv is None or key.get("crv") == crv))
            for key in self.keys
        )


def jwks(http: HttpProbe, url: str) -> Keys:
    data = get_json(http, url, "a JWK set")
    if not isinstance(data.get("keys"), list):
        raise OidcProbeError(f"GET {url}: the JWK set does not parse: no 'keys' list")
    try:
        if data["keys"]:  # an empty set is a valid JWK set (joserfc refuses to import one)
            KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OidcProbeError(f"GET {url}: the JWK set does not parse: {exc}") from None
    return Keys(url, list(data.get("keys") or []))


def error_code(response: Response) -> str:
    """Logto's error code from an error answer (`{"code": "oidc.invalid_client", …}`), or OAuth's `error`."""
    try:
        data = json.loads(response.body)
    except ValueError:
        return response.text[:80].strip()
    if isinstance(data, dict):
        return str(data.get("code") or data.get("error") or "")
    return ""
