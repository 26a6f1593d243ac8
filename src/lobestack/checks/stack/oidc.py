"""OIDC as LobeChat (Auth.js) meets Logto: discovery, its endpoints, the keys, the tenant, LobeChat's client and
secret, and the server-side calls both containers make to the public URLs."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from urllib.parse import quote, urlencode, urlsplit

from lobestack.checks.faults import EnvSet, LogtoRedirectUris, Recreate, SiteEdit, fault
from lobestack.checks.registry import Finding, Group
from lobestack.deployment.model import Origin
from lobestack.probes import ProbeError
from lobestack.probes.container_fetch import fetch_from
from lobestack.probes.oidc import ENDPOINT_KEYS, discover, discovery_url, error_code, jwks
from lobestack.targets.target import CONTAINERS, Target

GROUP = Group("OIDC", layer="stack", title="OIDC between LobeChat and Logto", impact="breaks")
SCOPES = "openid offline_access profile email"  # LobeChat's Logto provider
NO_XFP = SiteEdit(
    "auth.conf",
    "proxy_pass http://127.0.0.1:23001;\n        proxy_http_version 1.1;\n"
    "        proxy_set_header Host $host;\n        proxy_set_header X-Real-IP $remote_addr;\n"
    "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
    "        proxy_set_header X-Forwarded-Proto $scheme;\n",
    "proxy_pass http://127.0.0.1:23001;\n        proxy_http_version 1.1;\n"
    "        proxy_set_header Host $host;\n        proxy_set_header X-Real-IP $remote_addr;\n"
    "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n",
)
ADMIN_IS_ENDPOINT = Recreate(
    "docker-compose.yml",
    "ADMIN_ENDPOINT: ${LOGTO_ADMIN_ENDPOINT:?set LOGTO_ADMIN_ENDPOINT in .env}",
    "ADMIN_ENDPOINT: ${LOGTO_ENDPOINT}",
    ("logto",),
)
# The console vhost sends Host and X-Forwarded-Host without the port: Logto sees the core origin there.
CONSOLE_HOST_WITHOUT_PORT = (
    SiteEdit("auth.conf", "proxy_set_header Host $http_host;", "proxy_set_header Host $host;"),
    SiteEdit("auth.conf", "proxy_set_header X-Forwarded-Host $http_host;", "proxy_set_header X-Forwarded-Host $host;"),
)
# LobeChat's application in Logto no longer lists the callback (changed in the console, or APP_URL moved).
CALLBACK_NOT_REGISTERED = LogtoRedirectUris(("https://elsewhere.test/api/auth/callback/logto",))


def issuer_of(target: Target) -> str:
    return target.deployment.app_env("AUTH_LOGTO_ISSUER")


def callback_of(target: Target) -> str:
    return f"{target.deployment.app_env('APP_URL').rstrip('/')}/api/auth/callback/logto"


@GROUP.check(
    "OIDC-DISCOVERY",
    title="AUTH_LOGTO_ISSUER's discovery answers 200 with JSON, and its issuer equals AUTH_LOGTO_ISSUER exactly",
    fix="AUTH_LOGTO_ISSUER = LOGTO_ENDPOINT + '/oidc', character for character (no trailing slash); Auth.js "
    "rejects discovery whose issuer differs",
    faults=[
        fault(
            EnvSet("AUTH_LOGTO_ISSUER", "https://auth.test/oidc/", ("lobe",)),
            expect="discovery says issuer 'https://auth.test/oidc', not AUTH_LOGTO_ISSUER 'https://auth.test/oidc/'",
        ),
        fault(
            SiteEdit("auth.conf", "proxy_pass http://127.0.0.1:23001;", "proxy_pass http://127.0.0.1:23299;"),
            expect="openid-configuration: 502",
        ),
    ],
)
def discovery(target: Target) -> Iterator[Finding]:
    issuer = issuer_of(target)
    document = discover(target.http, issuer)
    if document.get("issuer") != issuer:
        yield Finding(
            f"{discovery_url(issuer)}: discovery says issuer {document.get('issuer')!r}, not AUTH_LOGTO_ISSUER "
            f"{issuer!r} (an exact string match)"
        )


@GROUP.check(
    "OIDC-ENDPOINTS",
    title="every endpoint discovery lists (authorization, token, userinfo, jwks, end_session) is on the issuer's "
    "scheme, host and port",
    fix="the auth vhost must send `X-Forwarded-Proto $scheme` (and Logto run with TRUST_PROXY_HEADER=1), or Logto "
    "advertises http:// endpoints behind TLS and LobeChat's token request fails",
    faults=[fault(NO_XFP, expect="token_endpoint 'http://auth.test/oidc/token' is not on the issuer's origin")],
)
def endpoints(target: Target) -> Iterator[Finding]:
    issuer = issuer_of(target)
    document = discover(target.http, issuer)
    expected = Origin.of(issuer)
    for key in ENDPOINT_KEYS:
        url = document.get(key)
        if url is None:
            if key != "end_session_endpoint":
                yield Finding(f"discovery lists no {key}")
            continue
        if Origin.of(str(url)) != expected:
            yield Finding(f"{key} {url!r} is not on the issuer's origin {expected}")


@GROUP.check(
    "OIDC-JWKS",
    title="the JWKS parses and has a key for each id_token signing algorithm discovery advertises",
    fix="let the JWKS through the proxy untouched (nothing may answer /oidc/jwks but Logto)",
    faults=[
        fault(
            SiteEdit(
                "auth.conf",
                "    location = /admin {",
                "    location = /oidc/jwks { default_type application/json; return 200 '{\"keys\":[]}'; }\n\n"
                "    location = /admin {",
            ),
            expect="has no key for ES384",
        ),
        fault(
            SiteEdit(
                "auth.conf",
                "    location = /admin {",
                '    location = /oidc/jwks { default_type application/json; return 200 \'{"keys":[{"kty":"EC"}]}\'; }'
                "\n\n    location = /admin {",
            ),
            expect="the JWK set does not parse",
        ),
    ],
)
def keys(target: Target) -> Iterator[Finding]:
    document = discover(target.http, issuer_of(target))
    found = jwks(target.http, str(document.get("jwks_uri")))
    algs = document.get("id_token_signing_alg_values_supported") or []
    if not algs:
        yield Finding("discovery advertises no id_token_signing_alg_values_supported")
    for alg in algs:
        if not found.has_key_for(str(alg)):
            yield Finding(f"{found.url} has no key for {alg} (advertised in id_token_signing_alg_values_supported)")


@GROUP.check(
    "OIDC-TENANT",
    title="the default tenant is not shadowed: the JWKS on Logto's ENDPOINT differs from the admin tenant's on "
    "ADMIN_ENDPOINT",
    fix="ADMIN_ENDPOINT must be its own origin (https://<auth>:8443), and the console vhost must proxy to Logto's "
    "admin port 3002; Logto picks the tenant by origin",
    faults=[
        fault(ADMIN_IS_ENDPOINT, expect="serve the same keys"),
        fault(*CONSOLE_HOST_WITHOUT_PORT, expect="serve the same keys"),
    ],
)
def tenant(target: Target) -> Iterator[Finding]:
    endpoint = target.deployment.auth_env("ENDPOINT") or target.deployment.env.get("LOGTO_ENDPOINT")
    admin = target.deployment.auth_env("ADMIN_ENDPOINT") or target.deployment.env.get("LOGTO_ADMIN_ENDPOINT")
    core = jwks(target.http, f"{endpoint}/oidc/jwks")
    console = jwks(target.http, f"{admin}/oidc/jwks")
    if core.fingerprints & console.fingerprints:
        yield Finding(
            f"{core.url} and {console.url} serve the same keys: one tenant answers both origins (ENDPOINT "
            f"{endpoint!r}, ADMIN_ENDPOINT {admin!r})"
        )


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@GROUP.check(
    "OIDC-CLIENT",
    title="Logto accepts LobeChat's client: an authorization request (code, PKCE S256, LobeChat's scopes, "
    "APP_URL/api/auth/callback/logto) reaches the sign-in page",
    fix="create LobeChat's application in Logto (Traditional web) with redirect URI APP_URL/api/auth/callback/logto "
    "and put its id in AUTH_LOGTO_ID (`python -m lobestack provision` does both)",
    faults=[
        fault(CALLBACK_NOT_REGISTERED, expect="oidc.invalid_redirect_uri"),
        fault(ADMIN_IS_ENDPOINT, expect="oidc.invalid_client"),
    ],
)
def client(target: Target) -> Iterator[Finding]:
    issuer = issuer_of(target)
    document = discover(target.http, issuer)
    _, challenge = _pkce()
    query = urlencode(
        {
            "client_id": target.deployment.app_env("AUTH_LOGTO_ID"),
            "redirect_uri": callback_of(target),
            "response_type": "code",
            "scope": SCOPES,
            "state": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        quote_via=quote,
    )
    url = f"{document.get('authorization_endpoint') or issuer + '/auth'}?{query}"
    try:
        response = target.http.get(url)
    except ProbeError as exc:
        yield Finding(f"GET authorization endpoint: {exc}")
        return
    location = response.header("location") or ""
    shown = url.split("?", 1)[0]
    if response.status in (302, 303) and "error" not in location:
        landing = urlsplit(location)
        if landing.netloc and Origin.of(location) != Origin.of(issuer):
            yield Finding(f"GET {shown}: redirected off Logto's origin to {location!r}")
        return
    code = error_code(response) if response.status >= 400 else location
    yield Finding(f"GET {shown} with AUTH_LOGTO_ID: {response.status} {code!r}, expected a redirect to sign-in")


@GROUP.check(
    "OIDC-SECRET",
    title="Logto accepts LobeChat's client secret: a token request with a made-up code answers invalid_grant, "
    "not invalid_client (read-only)",
    fix="copy the application's secret from Logto (Applications → LobeChat → secrets) into AUTH_LOGTO_SECRET and "
    "recreate lobe",
    faults=[fault(EnvSet("AUTH_LOGTO_SECRET", "x" * 32, ("lobe",)), expect="invalid_client', expected 400")],
)
def client_secret(target: Target) -> Iterator[Finding]:
    issuer = issuer_of(target)
    document = discover(target.http, issuer)
    token_url = str(document.get("token_endpoint") or issuer + "/token")
    client_id = target.deployment.app_env("AUTH_LOGTO_ID")
    secret = target.deployment.app_env("AUTH_LOGTO_SECRET")
    basic = base64.b64encode(f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()).decode()
    body = urlencode(
        {"grant_type": "authorization_code", "code": "lobestack-probe-not-a-code", "redirect_uri": callback_of(target)}
    ).encode()
    try:
        response = target.http.request(
            "POST",
            token_url,
            body=body,
            headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        )
    except ProbeError as exc:
        yield Finding(f"POST {token_url}: {exc}")
        return
    code = error_code(response)
    if code.removeprefix("oidc.") != "invalid_grant":
        yield Finding(
            f"POST {token_url} with AUTH_LOGTO_ID/AUTH_LOGTO_SECRET and a made-up code: {response.status} {code!r}, "
            "expected 400 'invalid_grant' (the secret accepted, the code refused)"
        )


def _reach(target: Target, service: str, urls: dict[str, str]) -> Iterator[Finding]:
    """From inside `service`, fetch each URL with the container's node; `urls` maps URL to what it must answer."""
    results = fetch_from(target, service, list(urls))
    for fetched in results:
        if fetched.error:
            yield Finding(f"from inside {service}, GET {fetched.url} failed: {fetched.error}")
        elif urls[fetched.url] == "200" and fetched.status != 200:
            yield Finding(f"from inside {service}, GET {fetched.url} answered {fetched.status}, expected 200")


@GROUP.check(
    "OIDC-REACH-APP",
    title="from inside LobeChat's container (its node, its NODE_EXTRA_CA_CERTS) the issuer's discovery and APP_URL "
    "answer",
    fix="LobeChat must resolve the public names (extra_hosts: <name>:host-gateway) and trust their CA "
    "(NODE_EXTRA_CA_CERTS for a private CA), or sign-in fails with 'fetch failed'",
    faults=[
        fault(
            Recreate(
                "docker-compose.yml",
                "      OLLAMA_PROXY_URL: ${OLLAMA_PROXY_URL:-}\n"
                "      NODE_EXTRA_CA_CERTS: /etc/lobestack/extra-ca.pem\n",
                "      OLLAMA_PROXY_URL: ${OLLAMA_PROXY_URL:-}\n",
                ("lobe",),
            ),
            expect="from inside lobe, GET https://auth.test/oidc/.well-known/openid-configuration failed",
        )
    ],
    needs=[CONTAINERS],
)
def reach_app(target: Target) -> Iterator[Finding]:
    lobe = target.deployment.lobe
    if lobe is None:
        yield Finding("no LobeChat service in the compose file")
        return
    urls = {discovery_url(issuer_of(target)): "200", target.deployment.app_env("APP_URL").rstrip("/") + "/": "any"}
    yield from _reach(target, lobe.name, urls)


@GROUP.check(
    "OIDC-REACH-LOGTO",
    title="from inside Logto's container (its node, its NODE_EXTRA_CA_CERTS) ADMIN_ENDPOINT's discovery answers",
    fix="Logto verifies console tokens through ADMIN_ENDPOINT: it must resolve the public names (extra_hosts) and "
    "trust their CA (NODE_EXTRA_CA_CERTS), or Management API calls answer 500",
    faults=[
        fault(
            Recreate(
                "docker-compose.yml",
                "ADMIN_ENDPOINT: ${LOGTO_ADMIN_ENDPOINT:?set LOGTO_ADMIN_ENDPOINT in .env}\n"
                "      NODE_EXTRA_CA_CERTS: /etc/lobestack/extra-ca.pem\n",
                "ADMIN_ENDPOINT: ${LOGTO_ADMIN_ENDPOINT:?set LOGTO_ADMIN_ENDPOINT in .env}\n",
                ("logto",),
            ),
            expect="from inside logto, GET https://auth.test:8443/oidc/.well-known/openid-configuration failed",
        )
    ],
    needs=[CONTAINERS],
)
def reach_logto(target: Target) -> Iterator[Finding]:
    logto = target.deployment.logto
    if logto is None:
        yield Finding("no Logto service in the compose file")
        return
    admin = target.deployment.auth_env("ADMIN_ENDPOINT") or target.deployment.env.get("LOGTO_ADMIN_ENDPOINT")
    yield from _reach(target, logto.name, {discovery_url(f"{admin}/oidc"): "200"})
