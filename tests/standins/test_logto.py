"""The Logto stand-in (lobestack/logto-standin:1) shows what the live checks and `lobestack provision` meet on real
Logto 1.37.1, behind real Nginx with TLS: discovery and its endpoints (and how they turn http:// without
X-Forwarded-Proto), ES384 keys, the tenant chosen by origin (and the admin tenant shadowing the default one when
ADMIN_ENDPOINT = ENDPOINT), Logto's error bodies at /oidc/auth and /oidc/token, the console's first run and the
experience API (register, sign-in), the breached-password check (and its 500 when its service is unreachable), the
`admin-console` client and its refresh token for the Management API, the Management API itself (applications, their
/secrets and legacy `secret`, roles, users, the sign-in experience), machine-to-machine tokens, the sign-in page and
the code flow with PKCE. It also runs compose's entrypoint (seed, alteration deploy, start) against real PostgreSQL.
Every Logto endpoint lobestack calls is served (the list is lobestack's own: provision/logto.py ENDPOINTS)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.standins.conftest import (
    Harness,
    Started,
    http_ready,
    pinned_names,
    provision_logto,
    start_pwned_passwords,
    start_tls_proxy,
)

ENDPOINT = "https://auth.test"
ADMIN_ENDPOINT = "https://auth.test:8443"
ISSUER = f"{ENDPOINT}/oidc"
APP_URL = "https://lobe.test"
CALLBACK = f"{APP_URL}/api/auth/callback/logto"
USER, PASSWORD = "alice", "alice-" + secrets.token_hex(6)
DB_PASSWORD = "pw-" + secrets.token_hex(6)
SCOPE = "openid offline_access profile email"
ENTRYPOINT = ["sh", "-c", "npm run cli db seed -- --swe && npm run alteration deploy 1.37.1 && npm start"]
FOOTER = "lobestack stand-in for Logto — not the real Logto"
ENDPOINT_KEYS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint")
MANAGEMENT_API = "https://default.logto.app/api"
ADMIN = ("root_admin", "Rt-" + secrets.token_urlsafe(12))  # the console's first admin
# LobeChat's application, as provisioning creates it (the `provisioned` fixture fills these in)
CLIENT: dict[str, str] = {}


def logto_env(**extra: str) -> dict[str, str]:
    return {
        "TRUST_PROXY_HEADER": "1",
        "DB_URL": f"postgres://postgres:{DB_PASSWORD}@logto-db:5432/logto",
        "ENDPOINT": ENDPOINT,
        "ADMIN_ENDPOINT": ADMIN_ENDPOINT,
        "NODE_EXTRA_CA_CERTS": "/etc/lobestack/extra-ca.pem",
        **extra,
    }


@pytest.fixture(scope="module")
def database(harness: Harness) -> Started:
    return harness.start(
        "postgres",
        "logto-db",
        env={"POSTGRES_PASSWORD": DB_PASSWORD},
        ready=lambda c: (c.exec(["pg_isready", "-U", "postgres"])[0] == 0 and "init process complete" in c.logs(), ""),
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logto")


@pytest.fixture(scope="module")
def proxy(harness: Harness, workdir: Path) -> tuple[Started, Path]:
    """Nginx with TLS for auth.test (core) and auth.test:8443 (console), upstreams resolved per request; and its CA."""
    return start_tls_proxy(harness, workdir, {"auth.test:443": "logto:3001", "auth.test:8443": "logto:3002"})


@pytest.fixture(scope="module")
def pwned(harness: Harness, workdir: Path, proxy: tuple[Started, Path]) -> Started:
    return start_pwned_passwords(harness, workdir, proxy[1])


@pytest.fixture(scope="module")
def logto(harness: Harness, database: Started, proxy: tuple[Started, Path], pwned: Started) -> Started:
    return harness.start(
        "logto",
        "logto",
        env=logto_env(),
        entrypoint=ENTRYPOINT,
        mounts={str(proxy[1]): "/etc/lobestack/extra-ca.pem:ro"},
        ports=(3001, 3002),
        ready=http_ready(3001, "/api/status", status=204),
        timeout_s=90,
    )


@pytest.fixture(scope="module")
def browser(logto: Started, proxy: tuple[Started, Path]) -> Iterator[Path]:
    """This process reaches auth.test and auth.test:8443 through the proxy by name. Yields the CA to verify with."""
    server, ca = proxy
    with pinned_names({("auth.test", port): ("127.0.0.1", server.port(port)) for port in (443, 8443)}):
        yield ca


@pytest.fixture(scope="module")
def first_run(browser: Path) -> str:
    """Where the console's origin sends a visitor before any admin exists (read before `provisioned` runs)."""
    import requests

    return requests.get(f"{ADMIN_ENDPOINT}/", verify=browser, allow_redirects=False, timeout=10).headers["Location"]


@pytest.fixture(scope="module")
def provisioned(browser: Path, first_run: str) -> dict[str, str]:
    """Provisioned as `lobestack provision` does it: the first admin, LobeChat's application, the user alice."""
    CLIENT["id"], CLIENT["secret"] = provision_logto(
        browser, endpoint=ENDPOINT, admin_endpoint=ADMIN_ENDPOINT, app_url=APP_URL, users={USER: PASSWORD}, admin=ADMIN
    )
    return CLIENT


@pytest.fixture(scope="module")
def shadowed(harness: Harness, logto: Started, provisioned: dict[str, str]) -> Started:
    """A second Logto on the same (seeded, provisioned) database with ADMIN_ENDPOINT = ENDPOINT."""
    return harness.start(
        "logto",
        "logto-shadowed",
        env=logto_env(ADMIN_ENDPOINT=ENDPOINT),
        entrypoint=ENTRYPOINT,
        ports=(3001, 3002),
        ready=http_ready(3001, "/api/status", status=204),
        timeout_s=90,
    )


def direct(c: Started, path: str, *, host: str = "auth.test", proto: str | None = None, port: int = 3001, **kw):
    """A request straight to the container, with the Host (and X-Forwarded-Proto) a proxy would send."""
    import requests

    headers = {"Host": host, **({"X-Forwarded-Proto": proto} if proto else {}), **kw.pop("headers", {})}
    return requests.request(kw.pop("method", "GET"), c.url(port, path), headers=headers, timeout=10, **kw)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def auth_params(**extra: str) -> dict[str, str]:
    """An authorization request as LobeChat's Auth.js sends it: code, PKCE S256, its scopes, no prompt."""
    return {
        "client_id": CLIENT["id"],
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": SCOPE,
        "state": secrets.token_urlsafe(8),
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        **extra,
    }


def test_image_labels_say_standin_and_node_is_on_path(docker_client, standin_images, logto: Started) -> None:
    labels = docker_client.images.get(standin_images["logto"]).labels
    assert labels["org.lobestack.standin"] == "true"
    assert labels["org.lobestack.role"] == "logto"
    code, out = logto.exec(["node", "-e", "console.log(process.version)"])
    assert code == 0 and out.startswith("v22."), out


def test_entrypoint_seeds_deploys_and_starts(logto: Started, shadowed: Started) -> None:
    assert "Seeding the database" in logto.logs()
    assert "Database already seeded, skipping" in shadowed.logs()  # the second start on the same database
    for port in (3001, 3002):
        assert direct(logto, "/api/status", port=port).status_code == 204


def test_start_refuses_without_database_or_with_undeployed_alterations(harness: Harness, database: Started) -> None:
    code, log = harness.run_to_exit(
        "logto", "no-db", env=logto_env(DB_URL="postgres://logto:pw@no-such-db:5432/logto"), entrypoint=ENTRYPOINT
    )
    assert code == 1
    assert "cannot connect to the database at postgres://logto:***@no-such-db:5432/logto" in log
    code, log = harness.run_to_exit(
        "logto", "bumped", env=logto_env(LOGTO_STANDIN_VERSION="1.38.0"), entrypoint=["npm", "start"]
    )
    assert code == 1
    assert "Undeployed database alterations found" in log


def test_discovery_through_the_proxy(browser: Path) -> None:
    import requests

    answer = requests.get(f"{ISSUER}/.well-known/openid-configuration", verify=browser, timeout=10)
    assert answer.status_code == 200
    d = answer.json()
    assert d["issuer"] == ISSUER
    assert [d[k] for k in ENDPOINT_KEYS] == [f"{ISSUER}/{p}" for p in ("auth", "token", "me", "jwks", "session/end")]
    assert d["id_token_signing_alg_values_supported"] == ["ES384"]
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert set(SCOPE.split()) <= set(d["scopes_supported"])
    assert "client_secret_basic" in d["token_endpoint_auth_methods_supported"]


def test_without_x_forwarded_proto_the_endpoints_turn_http_but_not_the_issuer(logto: Started) -> None:
    """TRUST_PROXY_HEADER=1 and a proxy that drops X-Forwarded-Proto: Logto builds URLs from the request."""
    dropped = direct(logto, "/oidc/.well-known/openid-configuration").json()
    assert dropped["issuer"] == ISSUER
    assert [dropped[k] for k in ENDPOINT_KEYS] == [
        f"http://auth.test/oidc/{p}" for p in ("auth", "token", "me", "jwks", "session/end")
    ]
    kept = direct(logto, "/oidc/.well-known/openid-configuration", proto="https").json()
    assert all(kept[k].startswith(f"{ISSUER}/") for k in ENDPOINT_KEYS)


def es384_keys(jwks: dict) -> list[dict]:
    keys = jwks["keys"]
    assert keys and all("d" not in k for k in keys), "JWKS must hold public keys only"
    return [k for k in keys if (k["kty"], k.get("crv"), k.get("alg")) == ("EC", "P-384", "ES384")]


def test_jwks_are_es384_and_the_admin_tenant_has_its_own(browser: Path) -> None:
    import requests

    core = requests.get(f"{ISSUER}/jwks", verify=browser, timeout=10).json()
    admin = requests.get(f"{ADMIN_ENDPOINT}/oidc/jwks", verify=browser, timeout=10).json()
    assert es384_keys(core) and es384_keys(admin)
    assert core != admin
    admin_discovery = requests.get(
        f"{ADMIN_ENDPOINT}/oidc/.well-known/openid-configuration", verify=browser, timeout=10
    )
    assert admin_discovery.json()["issuer"] == f"{ADMIN_ENDPOINT}/oidc"


def test_admin_endpoint_equal_to_endpoint_shadows_the_default_tenant(shadowed: Started, provisioned: dict) -> None:
    """Real Logto: the issuer text does not change, the keys become the admin tenant's, LobeChat's client is
    unknown there (400 oidc.invalid_client at /oidc/auth)."""
    discovery = direct(shadowed, "/oidc/.well-known/openid-configuration", proto="https").json()
    assert discovery["issuer"] == ISSUER
    on_endpoint = direct(shadowed, "/oidc/jwks", proto="https").json()
    admin_localhost = direct(shadowed, "/oidc/jwks", host="localhost:3002", port=3002).json()
    default_tenant = direct(shadowed, "/oidc/jwks", host="another.test", proto="https").json()
    assert on_endpoint == admin_localhost  # the admin tenant's keys, on ENDPOINT
    assert on_endpoint != default_tenant
    answer = direct(shadowed, "/oidc/auth", proto="https", params=auth_params(state="s1"), allow_redirects=False)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json() == {
        "code": "oidc.invalid_client",
        "message": "An OIDC error occurred: oidc.invalid_client.",
        "error": "invalid_client",
        "error_description": "client is invalid",
        "state": "s1",
        "iss": ISSUER,
    }


def test_unregistered_redirect_uri_is_400_invalid_redirect_uri(browser: Path, provisioned: dict) -> None:
    import requests

    params = auth_params(redirect_uri=f"{APP_URL}/api/auth/callback/other", state="s2")
    answer = requests.get(f"{ISSUER}/auth", params=params, verify=browser, allow_redirects=False, timeout=10)
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "oidc.invalid_redirect_uri",
        "message": "`redirect_uri` did not match any of the client's registered `redirect_uris`.",
        "error": "invalid_redirect_uri",
        "error_description": "redirect_uri did not match any of the client's registered redirect_uris",
        "state": "s2",
        "iss": ISSUER,
    }


def test_lobechat_authorization_request_reaches_the_sign_in_page(browser: Path, provisioned: dict) -> None:
    import requests

    answer = requests.get(f"{ISSUER}/auth", params=auth_params(), verify=browser, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/sign-in?app_id={provisioned['id']}"


@pytest.mark.parametrize(
    ("secret", "status", "body"),
    [
        (
            "from /secrets",
            400,
            {
                "code": "oidc.invalid_grant",
                "message": "Grant request is invalid.",
                "error_uri": "https://openid.sh/debug/invalid_grant",
                "error": "invalid_grant",
                "error_description": "grant request is invalid",
            },
        ),
        (
            "stale-secret",
            401,
            {
                "code": "oidc.invalid_client",
                "message": "An OIDC error occurred: oidc.invalid_client.",
                "error": "invalid_client",
                "error_description": "client authentication failed",
            },
        ),
    ],
    ids=["right-secret", "wrong-secret"],
)
def test_token_endpoint_with_a_made_up_code(
    browser: Path, provisioned: dict, secret: str, status: int, body: dict
) -> None:
    import requests

    answer = requests.post(
        f"{ISSUER}/token",
        auth=(provisioned["id"], provisioned["secret"] if secret == "from /secrets" else secret),
        data={
            "grant_type": "authorization_code",
            "code": "made-up",
            "redirect_uri": CALLBACK,
            "code_verifier": "x" * 43,
        },
        verify=browser,
        timeout=10,
    )
    assert answer.status_code == status
    assert answer.json() == body


def test_sign_in_and_code_flow_with_pkce(browser: Path, provisioned: dict) -> None:
    import requests

    session = requests.Session()
    verifier, challenge = pkce()
    params = auth_params(code_challenge=challenge, nonce="n-" + secrets.token_hex(4))
    answer = session.get(f"{ISSUER}/auth", params=params, allow_redirects=False, verify=browser, timeout=10)
    sign_in = urljoin(ISSUER, answer.headers["Location"])
    page = session.get(sign_in, verify=browser, timeout=10).text
    for hook in ('name="identifier"', 'name="password"', 'name="submit">Sign in</button>', FOOTER):
        assert hook in page
    wrong = session.post(
        sign_in, data={"identifier": USER, "password": "wrong"}, allow_redirects=False, verify=browser, timeout=10
    )
    assert wrong.status_code == 200
    assert re.search(r'role="alert">Invalid credentials<', wrong.text)
    answer = session.post(
        sign_in, data={"identifier": USER, "password": PASSWORD}, allow_redirects=False, verify=browser, timeout=10
    )
    for _ in range(5):
        location = urljoin(answer.url, answer.headers["Location"])
        if location.startswith(CALLBACK):
            break
        answer = session.get(location, allow_redirects=False, verify=browser, timeout=10)
    callback = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert (callback["state"], callback["iss"]) == (params["state"], ISSUER)

    token = requests.post(
        f"{ISSUER}/token",
        auth=(provisioned["id"], provisioned["secret"]),
        data={
            "grant_type": "authorization_code",
            "code": callback["code"],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        verify=browser,
        timeout=10,
    )
    assert token.status_code == 200, token.text
    tokens = token.json()
    claims = verify_es384(tokens["id_token"], requests.get(f"{ISSUER}/jwks", verify=browser, timeout=10).json())
    assert (claims["iss"], claims["aud"], claims["nonce"], claims["username"]) == (
        ISSUER,
        provisioned["id"],
        params["nonce"],
        USER,
    )
    me = requests.get(
        f"{ISSUER}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, verify=browser, timeout=10
    )
    assert me.json()["sub"] == claims["sub"]


def verify_es384(jwt: str, jwks: dict) -> dict:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    def b64(part: str) -> bytes:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    head, body, signature = jwt.split(".")
    header = json.loads(b64(head))
    assert header["alg"] == "ES384"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64(key["x"]), "big"), int.from_bytes(b64(key["y"]), "big"), ec.SECP384R1()
    ).public_key()
    raw = b64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big"))
    public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA384()))  # raises when it does not verify
    return json.loads(b64(body))


def test_sign_in_without_an_interaction_ends_on_unknown_session(browser: Path) -> None:
    import requests

    answer = requests.get(f"{ENDPOINT}/sign-in?app_id=any", verify=browser, allow_redirects=False, timeout=10)
    assert (answer.status_code, answer.headers["Location"]) == (302, "/unknown-session")


def test_console_first_run_then_the_console(browser: Path, first_run: str, provisioned: dict) -> None:
    """koaConsoleRedirectProxy: `/` and `/console` lead to /console/welcome until an admin exists, then to /console."""
    import requests

    assert first_run == "/console/welcome"
    after = requests.get(f"{ADMIN_ENDPOINT}/", verify=browser, allow_redirects=False, timeout=10)
    assert (after.status_code, after.headers["Location"]) == (302, "/console")
    welcome = requests.get(f"{ADMIN_ENDPOINT}/console/welcome", verify=browser, allow_redirects=False, timeout=10)
    assert (welcome.status_code, welcome.headers["Location"]) == (302, "/console")
    console = requests.get(f"{ADMIN_ENDPOINT}/console", verify=browser, allow_redirects=False, timeout=10)
    assert console.status_code == 302 and console.headers["Location"].startswith(f"{ADMIN_ENDPOINT}/oidc/auth?")
    # the default tenant serves no console: its sign-in app's shell, blank there (as real Logto 1.37.1 answers)
    default = requests.get(f"{ENDPOINT}/console", verify=browser, allow_redirects=False, timeout=10)
    assert default.status_code == 200 and "<title></title>" in default.text
    assert 'src="/assets/' in default.text and "/console/assets/" not in default.text


def test_in_container_reach_with_node_and_the_extra_ca(logto: Started, browser: Path) -> None:
    """What a live check runs: `docker exec logto node -e fetch(ADMIN_ENDPOINT discovery)`; the CA comes from
    NODE_EXTRA_CA_CERTS, and without it node says `fetch failed`."""
    fetch = (
        f"fetch('{ADMIN_ENDPOINT}/oidc/.well-known/openid-configuration')"
        ".then(r => console.log('status', r.status))"
        ".catch(e => { console.log(e.message, e.cause && e.cause.code); process.exit(1); })"
    )
    code, out = logto.exec(["node", "-e", fetch])
    assert (code, out.strip()) == (0, "status 200")
    code, out = logto.exec(["env", "-u", "NODE_EXTRA_CA_CERTS", "node", "-e", fetch])
    assert code == 1
    assert out.startswith("fetch failed UNABLE_TO_VERIFY_LEAF_SIGNATURE"), out


# --- the interfaces `lobestack provision` uses ------------------------------------------------------------------------


def logto_client(ca: Path):
    from lobestack.probes.http import HttpProbe
    from lobestack.provision.logto import Logto

    return Logto(HttpProbe(ca_file=ca), ENDPOINT, ADMIN_ENDPOINT)


@pytest.fixture(scope="module")
def admin_api(browser: Path, provisioned: dict):
    """The Management API with the console admin's token (admin-console's refresh token, resource + scope all)."""
    logto = logto_client(browser)
    return logto.management(logto.admin_token(*ADMIN))


def experience(session, browser: Path, method: str, path: str, body: object = None, origin: str = ENDPOINT):
    return session.request(method, f"{origin}/api/experience{path}", json=body, verify=browser, timeout=10)


def start_interaction(session, browser: Path, **extra: str) -> None:
    answer = session.get(
        f"{ISSUER}/auth", params=auth_params(**extra), verify=browser, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303, answer.text


def test_wire_format_as_real_logto_sends_it(browser: Path, provisioned: dict) -> None:
    """What real Logto 1.37.1 sends and upstream oidc-provider does not (recorded from the real one:
    tests/data/logto-1.37.1/): its own Strict-Transport-Security on every answer, and the fork's JSON `_interaction`
    cookie ({client: uid, "_legacy": uid}, signed), which its experience API takes back."""
    import requests

    from lobestack.probes.http import Response
    from lobestack.provision.logto import ADMIN_CONSOLE
    from lobestack.provision.session import WebSession

    status = requests.get(f"{ENDPOINT}/api/status", verify=browser, timeout=10)
    assert status.headers["Strict-Transport-Security"] == "max-age=15552000; includeSubDomains"
    session = requests.Session()
    params = {**auth_params(), "client_id": ADMIN_CONSOLE, "redirect_uri": f"{ADMIN_ENDPOINT}/console/callback"}
    answer = session.get(
        f"{ADMIN_ENDPOINT}/oidc/auth", params=params, verify=browser, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["Strict-Transport-Security"] == "max-age=15552000; includeSubDomains"
    set_cookies = answer.raw.headers.getlist("Set-Cookie")
    interaction = next(c for c in set_cookies if c.startswith("_interaction="))
    mapping = json.loads(interaction.split(";", 1)[0].split("=", 1)[1])
    assert set(mapping) == {ADMIN_CONSOLE, "_legacy"} and mapping[ADMIN_CONSOLE] == mapping["_legacy"], mapping
    assert any(c.startswith('_logto={"appId":"admin-console"}') for c in set_cookies), set_cookies
    # lobestack's client keeps the JSON value whole (as a browser does) and the experience API accepts it back
    jar = WebSession(None)  # type: ignore[arg-type]
    jar._remember(
        answer.url, Response(url=answer.url, status=303, headers={}, body=b"", set_cookies=tuple(set_cookies))
    )
    cookie = jar._cookie_header(f"{ADMIN_ENDPOINT}/api/experience")
    assert f"_interaction={json.dumps(mapping, separators=(',', ':'))}" in cookie, cookie
    accepted = requests.put(
        f"{ADMIN_ENDPOINT}/api/experience",
        json={"interactionEvent": "SignIn"},
        headers={"Cookie": cookie},
        verify=browser,
        timeout=10,
    )
    assert accepted.status_code == 204, accepted.text


def test_experience_api_needs_an_interaction(browser: Path, logto: Started) -> None:
    import requests

    answer = requests.put(f"{ENDPOINT}/api/experience", json={"interactionEvent": "SignIn"}, verify=browser, timeout=10)
    assert answer.status_code == 400
    body = answer.json()
    assert (body["code"], body["message"]) == (
        "session.not_found",
        "Session not found. Please go back and sign in again.",
    )
    assert body["error"] == "invalid_request" and "not found" in body["error_description"]


def test_experience_sign_in_then_the_code_flow(browser: Path, provisioned: dict) -> None:
    """What LobeChat's sign-in page does on Logto: PUT SignIn, password verification, identification, submit; then
    the redirects (consent is automatic for a first-party app) reach the callback with a code."""
    tokens = logto_client(browser).code_flow(provisioned["id"], provisioned["secret"], CALLBACK, USER, PASSWORD, SCOPE)
    claims = json.loads(base64.urlsafe_b64decode(tokens.id_token.split(".")[1] + "=="))
    assert (claims["iss"], claims["aud"], claims["username"]) == (ISSUER, provisioned["id"], USER)
    assert tokens.refresh_token is None  # offline_access needs prompt=consent (oidc-provider, as Logto)


def test_experience_wrong_password_and_unknown_user_are_422(browser: Path, provisioned: dict) -> None:
    import requests

    for username, password in ((USER, "wrong-password"), ("nobody", PASSWORD)):
        session = requests.Session()
        start_interaction(session, browser)
        assert experience(session, browser, "PUT", "", {"interactionEvent": "SignIn"}).status_code == 204
        answer = experience(
            session,
            browser,
            "POST",
            "/verification/password",
            {"identifier": {"type": "username", "value": username}, "password": password},
        )
        assert answer.status_code == 422
        assert answer.json() == {
            "code": "session.invalid_credentials",
            "message": "Incorrect account or password. Please check your input.",
        }


def register(session, browser: Path, username: str, password: str, origin: str = ENDPOINT):
    """Register through the experience API; returns the answer of the password step."""
    assert experience(session, browser, "PUT", "", {"interactionEvent": "Register"}, origin).status_code == 204
    answer = experience(session, browser, "POST", "/profile", {"type": "username", "value": username}, origin)
    assert answer.status_code == 204, answer.text
    return experience(session, browser, "POST", "/profile", {"type": "password", "value": password}, origin)


def test_breached_password_check_rejects_a_breached_one_and_fails_500_when_unreachable(
    browser: Path, provisioned: dict, pwned: Started
) -> None:
    import requests

    session = requests.Session()
    start_interaction(session, browser)
    answer = register(session, browser, "bob", "password")
    assert answer.status_code == 422
    assert answer.json()["code"] == "password.rejected"
    assert {"code": "password_rejected.pwned"} in answer.json()["data"]
    assert pwned.exec(["touch", "/tmp/lobestack-offline"])[0] == 0
    try:
        answer = experience(session, browser, "POST", "/profile", {"type": "password", "value": "Qx7-unique-" + USER})
        assert (answer.status_code, answer.json()) == (500, {"message": "Internal server error."})
    finally:
        pwned.exec(["rm", "-f", "/tmp/lobestack-offline"])
    answer = experience(session, browser, "POST", "/profile", {"type": "password", "value": "Qx7-unique-pw"})
    assert answer.status_code == 204, answer.text
    assert experience(session, browser, "POST", "/identification", {}).status_code == 201
    submitted = experience(session, browser, "POST", "/submit")
    assert submitted.status_code == 200 and submitted.json()["redirectTo"].startswith(f"{ISSUER}/auth/")


def test_the_console_registers_once(browser: Path, provisioned: dict) -> None:
    """After the first admin, the admin tenant is sign-in only: a second registration is 403 auth.forbidden."""
    import requests

    from lobestack.provision.logto import ADMIN_CONSOLE

    session = requests.Session()
    params = {
        **auth_params(),
        "client_id": ADMIN_CONSOLE,
        "redirect_uri": f"{ADMIN_ENDPOINT}/console/callback",
        "first_screen": "register",
    }
    answer = session.get(
        f"{ADMIN_ENDPOINT}/oidc/auth", params=params, verify=browser, allow_redirects=False, timeout=10
    )
    assert (answer.status_code, answer.headers["Location"]) == (303, "/register?app_id=admin-console")
    assert register(session, browser, "second_admin", "Qx7-second-pw", ADMIN_ENDPOINT).status_code == 204
    answer = experience(session, browser, "POST", "/identification", {}, ADMIN_ENDPOINT)
    assert answer.status_code == 403
    assert answer.json() == {
        "code": "auth.forbidden",
        "message": "Forbidden. Please check your user roles and permissions.",
    }


def test_management_api_refuses_without_a_management_token(browser: Path, provisioned: dict) -> None:
    import requests

    url = f"{ENDPOINT}/api/applications"
    answer = requests.get(url, verify=browser, timeout=10)
    assert (answer.status_code, answer.json()) == (
        401,
        {"code": "auth.authorization_header_missing", "message": "Authorization header is missing."},
    )
    answer = requests.get(url, headers={"Authorization": "Basic eDp5"}, verify=browser, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["code"] == "auth.authorization_token_type_not_supported"
    tokens = logto_client(browser).code_flow(provisioned["id"], provisioned["secret"], CALLBACK, USER, PASSWORD, SCOPE)
    answer = requests.get(url, headers={"Authorization": f"Bearer {tokens.access_token}"}, verify=browser, timeout=10)
    assert (answer.status_code, answer.json()) == (
        401,
        {"code": "auth.unauthorized", "message": "Unauthorized. Please check credentials and its scope."},
    )


def test_admin_console_refresh_token_gives_a_management_api_jwt_once(browser: Path, provisioned: dict) -> None:
    """admin-console: code + PKCE, then `refresh_token` with resource + scope all; refresh tokens rotate."""
    import requests

    from lobestack.provision.logto import ADMIN_CONSOLE

    logto = logto_client(browser)
    redirect = f"{ADMIN_ENDPOINT}/console/callback"
    code, verifier = logto.authorize(
        ADMIN_ENDPOINT,
        ADMIN_CONSOLE,
        redirect,
        *ADMIN,
        scope="openid offline_access all",
        resource=MANAGEMENT_API,
        prompt="consent",
    )
    token_url = f"{ADMIN_ENDPOINT}/oidc/token"
    first = requests.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
            "client_id": ADMIN_CONSOLE,
        },
        verify=browser,
        timeout=10,
    ).json()
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": ADMIN_CONSOLE,
        "resource": MANAGEMENT_API,
        "scope": "all",
    }
    answer = requests.post(token_url, data=refresh, verify=browser, timeout=10)
    assert answer.status_code == 200, answer.text
    claims = json.loads(base64.urlsafe_b64decode(answer.json()["access_token"].split(".")[1] + "=="))
    assert (claims["iss"], claims["aud"], claims["scope"], claims["client_id"]) == (
        f"{ADMIN_ENDPOINT}/oidc",
        MANAGEMENT_API,
        "all",
        ADMIN_CONSOLE,
    )
    again = requests.post(token_url, data=refresh, verify=browser, timeout=10)
    assert (again.status_code, again.json()["code"]) == (400, "oidc.invalid_grant")


def test_applications_secrets_and_the_legacy_secret(browser: Path, admin_api, provisioned: dict) -> None:
    app = next(a for a in admin_api.applications("Traditional") if a["id"] == provisioned["id"])
    assert app["name"] == "LobeChat" and app["type"] == "Traditional"
    assert app["secret"].startswith("#internal:"), "the legacy `secret` field is Logto's internal value"
    assert app["oidcClientMetadata"] == {"redirectUris": [CALLBACK], "postLogoutRedirectUris": [APP_URL]}
    (secret,) = admin_api.secrets(provisioned["id"])
    assert (secret["name"], secret["applicationId"], secret["expiresAt"]) == ("Default secret", provisioned["id"], None)
    assert re.fullmatch(r"[0-9A-Za-z]{32}", secret["value"]) and secret["value"] != app["secret"]


def test_machine_to_machine_app_with_the_management_api_role(browser: Path, admin_api) -> None:
    from lobestack.provision.logto import M2M_ROLE, LogtoError

    (role,) = [r for r in admin_api.roles("MachineToMachine") if r["name"] == M2M_ROLE]
    app = admin_api.create_application({"name": "m2m-" + secrets.token_hex(3), "type": "MachineToMachine"})
    admin_api.assign_roles(app["id"], [role["id"]])
    with pytest.raises(LogtoError) as again:
        admin_api.assign_roles(app["id"], [role["id"]])
    assert (again.value.status, again.value.code) == (422, "application.role_exists")
    assert [r["id"] for r in admin_api.application_roles(app["id"])] == [role["id"]]
    logto = logto_client(browser)
    token = logto.machine_token(app["id"], admin_api.secrets(app["id"])[0]["value"])
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert (claims["iss"], claims["aud"], claims["scope"], claims["sub"]) == (ISSUER, MANAGEMENT_API, "all", app["id"])
    assert logto.management(token).roles("MachineToMachine")
    with pytest.raises(LogtoError) as wrong:
        logto.machine_token(app["id"], "x" * 32)
    assert (wrong.value.status, wrong.value.code) == (401, "oidc.invalid_client")


def test_users_and_the_sign_in_experience(browser: Path, admin_api) -> None:
    from lobestack.provision.logto import LogtoError

    assert [u["username"] for u in admin_api.users_named(USER)] == [USER]
    with pytest.raises(LogtoError) as taken:
        admin_api.create_user({"username": USER, "password": "whatever"})
    assert (taken.value.status, taken.value.code) == (422, "user.username_already_in_use")
    sie = admin_api.sign_in_experience()
    assert (sie["signInMode"], sie["passwordPolicy"]) == ("SignInAndRegister", {})
    changed = admin_api.update_sign_in_experience({"passwordPolicy": {"rejects": {"pwned": False}}})
    try:
        assert changed["passwordPolicy"] == {"rejects": {"pwned": False}}
        assert changed["signInMode"] == "SignInAndRegister"
    finally:
        admin_api.update_sign_in_experience({"passwordPolicy": {}})


def test_every_logto_endpoint_lobestack_calls_is_served(browser: Path, admin_api, provisioned: dict) -> None:
    """The meta-test: each endpoint of provision/logto.py ENDPOINTS answers as a served route does (a success, or
    Logto's JSON error with a `code`), never 404 without one, 405 or 501, on each tenant it is declared for."""
    import requests

    from lobestack.provision.logto import ENDPOINTS

    origins = {"default": [ENDPOINT], "admin": [ADMIN_ENDPOINT], "both": [ENDPOINT, ADMIN_ENDPOINT]}
    headers = {"Authorization": f"Bearer {admin_api.token}"}
    invalid = {"name": 0, "username": 0, "roleIds": 0, "passwordPolicy": 0, "interactionEvent": 0}
    unserved = []
    for endpoint in ENDPOINTS.values():
        path = endpoint.path.format(id=provisioned["id"])
        for origin in origins[endpoint.tenant]:
            answer = requests.request(
                endpoint.method,
                origin + path,
                headers=headers,
                verify=browser,
                allow_redirects=False,
                timeout=10,
                json=invalid if endpoint.method in ("POST", "PATCH", "PUT") else None,
            )
            try:
                coded = "code" in answer.json()
            except ValueError:
                coded = False
            if answer.status_code in (405, 501) or (answer.status_code == 404 and not coded):
                unserved.append(f"{endpoint.method} {origin}{path}: {answer.status_code}")
    assert not unserved, unserved


def test_the_console_signs_in_through_the_admin_tenants_oidc(browser: Path, provisioned: dict) -> None:
    """Once an admin exists, /console signs in as the console SPA does: admin-console's authorization request (PKCE
    S256) → /sign-in (identifier, password, submit; "Invalid credentials" in role=alert) → /consent → the
    callback, which takes the code once → the console, showing the administrator."""
    from urllib.parse import parse_qs, urlsplit

    import requests

    from lobestack.provision.logto import ADMIN_CONSOLE

    session = requests.Session()
    answer = session.get(f"{ADMIN_ENDPOINT}/console", verify=browser, allow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert (query["client_id"], query["redirect_uri"], query["code_challenge_method"]) == (
        [ADMIN_CONSOLE],
        [f"{ADMIN_ENDPOINT}/console/callback"],
        ["S256"],
    )
    form = session.get(answer.headers["Location"], verify=browser, timeout=10)
    assert urlsplit(form.url).path == "/sign-in" and 'name="identifier"' in form.text and 'name="submit"' in form.text
    wrong = session.post(
        form.url, data={"identifier": ADMIN[0], "password": "wrong-password"}, verify=browser, timeout=10
    )
    assert 'role="alert"' in wrong.text and "Invalid credentials" in wrong.text
    right = session.post(form.url, data={"identifier": ADMIN[0], "password": ADMIN[1]}, verify=browser, timeout=10)
    assert right.url == f"{ADMIN_ENDPOINT}/console/get-started", [r.headers.get("Location") for r in right.history]
    assert f"data-admin>{ADMIN[0]}<" in right.text
    callback = next(r.headers["Location"] for r in right.history if "/console/callback" in r.headers["Location"])
    again = requests.get(callback, verify=browser, allow_redirects=False, timeout=10)  # the code is used up
    assert (again.status_code, again.headers["Location"]) == (302, "/console")
