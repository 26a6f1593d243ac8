"""The Logto stand-in (lobestack/logto-standin:1) shows what the live checks judge as real Logto 1.37.1 does,
behind real Nginx with TLS: discovery and its endpoints (and how they turn http:// without X-Forwarded-Proto),
ES384 keys, the tenant chosen by origin (and the admin tenant shadowing the default one when ADMIN_ENDPOINT =
ENDPOINT), Logto's error bodies at /oidc/auth and /oidc/token, the sign-in page, and the code flow with PKCE.
It also runs compose's entrypoint (seed, alteration deploy, start) against real PostgreSQL."""

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

from tests.standins.conftest import Harness, Started, http_ready, pinned_names, start_tls_proxy

ENDPOINT = "https://auth.test"
ADMIN_ENDPOINT = "https://auth.test:8443"
ISSUER = f"{ENDPOINT}/oidc"
APP_URL = "https://lobe.test"
CALLBACK = f"{APP_URL}/api/auth/callback/logto"
CLIENT_ID, CLIENT_SECRET = "lobechat" + secrets.token_hex(4), "secret-" + secrets.token_hex(12)
USER, PASSWORD = "alice", "alice-" + secrets.token_hex(6)
DB_PASSWORD = "pw-" + secrets.token_hex(6)
SCOPE = "openid offline_access profile email"
ENTRYPOINT = ["sh", "-c", "npm run cli db seed -- --swe && npm run alteration deploy 1.37.1 && npm start"]
FOOTER = "lobestack stand-in for Logto — not the real Logto"
ENDPOINT_KEYS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint")


def logto_env(**extra: str) -> dict[str, str]:
    return {
        "TRUST_PROXY_HEADER": "1",
        "DB_URL": f"postgres://postgres:{DB_PASSWORD}@logto-db:5432/logto",
        "ENDPOINT": ENDPOINT,
        "ADMIN_ENDPOINT": ADMIN_ENDPOINT,
        "NODE_EXTRA_CA_CERTS": "/etc/lobestack/extra-ca.pem",
        "AUTH_LOGTO_ID": CLIENT_ID,
        "AUTH_LOGTO_SECRET": CLIENT_SECRET,
        "APP_URL": APP_URL,
        "LOGTO_STANDIN_USERS": f"{USER}:{PASSWORD}",
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
def logto(harness: Harness, database: Started, workdir: Path) -> Started:
    (workdir / "ca.pem").touch()  # the proxy's CA is written over it below; the mount needs the file now
    return harness.start(
        "logto",
        "logto",
        env=logto_env(),
        entrypoint=ENTRYPOINT,
        mounts={str(workdir / "ca.pem"): "/etc/lobestack/extra-ca.pem:ro"},
        ports=(3001, 3002),
        ready=http_ready(3001, "/api/status", status=204),
        timeout_s=90,
    )


@pytest.fixture(scope="module")
def browser(harness: Harness, logto: Started, workdir: Path) -> Iterator[Path]:
    """Nginx with TLS for auth.test (core) and auth.test:8443 (console); this process reaches both by name.
    Yields the CA file to verify them with."""
    proxy, ca = start_tls_proxy(harness, workdir, {"auth.test:443": "logto:3001", "auth.test:8443": "logto:3002"})
    with pinned_names({("auth.test", port): ("127.0.0.1", proxy.port(port)) for port in (443, 8443)}):
        yield ca


@pytest.fixture(scope="module")
def shadowed(harness: Harness, logto: Started) -> Started:
    """A second Logto on the same (seeded) database with ADMIN_ENDPOINT = ENDPOINT."""
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
        "client_id": CLIENT_ID,
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


def test_admin_endpoint_equal_to_endpoint_shadows_the_default_tenant(shadowed: Started) -> None:
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


def test_unregistered_redirect_uri_is_400_invalid_redirect_uri(browser: Path) -> None:
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


def test_lobechat_authorization_request_reaches_the_sign_in_page(browser: Path) -> None:
    import requests

    answer = requests.get(f"{ISSUER}/auth", params=auth_params(), verify=browser, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/sign-in?app_id={CLIENT_ID}"


@pytest.mark.parametrize(
    ("secret", "status", "body"),
    [
        (
            CLIENT_SECRET,
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
def test_token_endpoint_with_a_made_up_code(browser: Path, secret: str, status: int, body: dict) -> None:
    import requests

    answer = requests.post(
        f"{ISSUER}/token",
        auth=(CLIENT_ID, secret),
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


def test_sign_in_and_code_flow_with_pkce(browser: Path) -> None:
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
        auth=(CLIENT_ID, CLIENT_SECRET),
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
        CLIENT_ID,
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

    answer = requests.get(f"{ENDPOINT}/sign-in?app_id={CLIENT_ID}", verify=browser, allow_redirects=False, timeout=10)
    assert (answer.status_code, answer.headers["Location"]) == (302, "/unknown-session")


def test_console_lives_on_the_admin_origin_only(browser: Path) -> None:
    import requests

    console = requests.get(f"{ADMIN_ENDPOINT}/console", verify=browser, allow_redirects=False, timeout=10)
    assert (console.status_code, console.headers["Location"]) == (302, "/console/welcome")
    welcome = requests.get(f"{ADMIN_ENDPOINT}/console/welcome", verify=browser, timeout=10).text
    assert "Logto Console</title>" in welcome and ">Create account</a>" in welcome
    default = requests.get(f"{ENDPOINT}/console", verify=browser, allow_redirects=False, timeout=10)
    assert (default.status_code, default.headers["Location"]) == (302, "/unknown-session")


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


def test_console_first_run_then_sign_in(browser: Path) -> None:
    """The console's first run creates the administrator (/register, /register/password) and lands in the console;
    afterwards the console asks for that administrator's sign-in (/sign-in: identifier, password, submit; errors
    in role=alert). Runs last: it leaves an administrator behind."""
    import requests

    admin, password = "admin", "admin-" + secrets.token_hex(6)
    first = requests.Session()
    answer = first.post(f"{ADMIN_ENDPOINT}/register", data={"identifier": admin}, verify=browser, timeout=10)
    assert answer.url == f"{ADMIN_ENDPOINT}/register/password" and 'name="newPassword"' in answer.text
    answer = first.post(
        f"{ADMIN_ENDPOINT}/register/password",
        data={"newPassword": password, "confirmPassword": password},
        verify=browser,
        timeout=10,
    )
    assert answer.url == f"{ADMIN_ENDPOINT}/console/get-started" and "data-admin>admin<" in answer.text

    later = requests.Session()
    console = later.get(f"{ADMIN_ENDPOINT}/console", verify=browser, allow_redirects=False, timeout=10)
    assert (console.status_code, console.headers["Location"]) == (302, "/sign-in?app_id=admin-console")
    register = later.get(f"{ADMIN_ENDPOINT}/register", verify=browser, allow_redirects=False, timeout=10)
    assert register.headers["Location"] == "/sign-in?app_id=admin-console"  # the first run is over
    form = later.get(f"{ADMIN_ENDPOINT}/console/welcome", verify=browser, timeout=10)
    assert 'name="identifier"' in form.text and 'name="submit"' in form.text
    wrong = later.post(form.url, data={"identifier": admin, "password": "wrong-password"}, verify=browser, timeout=10)
    assert '<div role="alert">Invalid credentials</div>' in wrong.text
    right = later.post(form.url, data={"identifier": admin, "password": password}, verify=browser, timeout=10)
    assert right.url == f"{ADMIN_ENDPOINT}/console/get-started" and "data-admin>admin<" in right.text
