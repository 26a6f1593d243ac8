"""The LobeChat stand-in (lobestack/lobechat-standin:1) shows what the live checks judge as real LobeChat 1.143.3
does: /api/auth/providers with the callbackUrl next-auth derives from NEXTAUTH_URL, the NextAuth adapter route
with its bearer check and answers, node in the image for in-container reach, and, signed in through the Logto
stand-in behind real Nginx with TLS, the faults of sign-in (issuer with a trailing slash, a CA the container does
not trust, a proxy that drops Authorization on the adapter self-call) and at start (KEY_VAULTS_SECRET not 32
bytes, no pgvector). It starts on real PostgreSQL + pgvector. It has no tRPC API and no uploads: the upload flow
runs on the real LobeChat (the reference image set), and the fast set only signs in."""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest

from tests.standins.conftest import (
    Harness,
    Started,
    http_ready,
    log_ready,
    pinned_names,
    provision_logto,
    start_pwned_passwords,
    start_tls_proxy,
)

APP_URL = "http://lobe.test:3210"
ISSUER = "https://auth.test/oidc"
# LobeChat's application in the Logto stand-in, as `lobestack provision` creates it (filled in by `stack`)
CLIENT: dict[str, str] = {}
USER, PASSWORD = "alice", "alice-" + secrets.token_hex(6)
DB_PASSWORD = "pw-" + secrets.token_hex(6)
KEY_VAULTS_SECRET = base64.b64encode(secrets.token_bytes(32)).decode()
NEXT_AUTH_SECRET = secrets.token_hex(24)
FOOTER = "lobestack stand-in for LobeChat — not the real LobeChat"
CA_IN_CONTAINER = "/etc/lobestack/extra-ca.pem"


def lobe_env(**extra: str | None) -> dict[str, str]:
    env = {
        "APP_URL": APP_URL,
        "NEXTAUTH_URL": f"{APP_URL}/api/auth",
        "NEXT_AUTH_SECRET": NEXT_AUTH_SECRET,
        "NEXT_AUTH_SSO_PROVIDERS": "logto",
        "AUTH_LOGTO_ID": CLIENT["id"],
        "AUTH_LOGTO_SECRET": CLIENT["secret"],
        "AUTH_LOGTO_ISSUER": ISSUER,
        "KEY_VAULTS_SECRET": KEY_VAULTS_SECRET,
        "DATABASE_URL": f"postgresql://postgres:{DB_PASSWORD}@lobe-db:5432/lobechat",
        "NODE_EXTRA_CA_CERTS": CA_IN_CONTAINER,
        **extra,
    }
    return {k: v for k, v in env.items() if v is not None}


class Stack:
    """The module's services, and the names this process reaches them by (`routes`, changed by variants)."""

    def __init__(self, harness: Harness, ca: Path, database: Started, routes: dict) -> None:
        self.harness = harness
        self.ca = ca
        self.database = database
        self.routes = routes
        self.main: Started | None = None  # the module's LobeChat, reached as lobe.test:3210
        self.last_session = None  # the requests.Session of the last sign-in

    def lobe_options(self, env: dict[str, str | None]) -> dict:
        return {
            "env": lobe_env(**env),
            "mounts": {str(self.ca): f"{CA_IN_CONTAINER}:ro"},
            "ports": (3210,),
            "ready": http_ready(3210, "/api/auth/providers"),
        }

    @contextlib.contextmanager
    def variant(self, name: str, **env: str | None) -> Iterator[Started]:
        """A LobeChat variant for one test, reached as lobe.test:3210 while the block runs."""
        with self.harness.running("lobechat", name, **self.lobe_options(env)) as variant:
            main = self.routes[("lobe.test", 3210)]
            self.routes[("lobe.test", 3210)] = ("127.0.0.1", variant.port(3210))
            try:
                yield variant
            finally:
                self.routes[("lobe.test", 3210)] = main

    def psql(self, sql: str, db: str = "lobechat") -> str:
        code, out = self.database.exec(["psql", "-U", "postgres", "-d", db, "-tAc", sql])
        assert code == 0, out
        return out.strip()


def pg_ready(c: Started) -> tuple[bool, str]:
    # the entrypoint's temporary init server answers pg_isready too: wait for the final one
    return c.exec(["pg_isready", "-U", "postgres"])[0] == 0 and "init process complete" in c.logs(), "initdb"


@pytest.fixture(scope="module")
def stack(harness: Harness, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("lobechat")
    database = harness.start(
        "postgres",
        "lobe-db",
        aliases=("logto-db",),
        env={"POSTGRES_PASSWORD": DB_PASSWORD, "POSTGRES_DB": "lobechat"},
        ready=pg_ready,
    )
    proxy, ca = start_tls_proxy(
        harness,
        workdir,
        {
            "auth.test:443": "logto:3001",
            "auth.test:8443": "logto:3002",
            # in front of the app, dropping Authorization: the adapter self-call fault
            "drops-authorization.test:443": ("lobe-behind-proxy:3210", 'proxy_set_header Authorization "";'),
        },
    )
    start_pwned_passwords(harness, workdir, ca)
    harness.start(
        "logto",
        "logto",
        env={
            "TRUST_PROXY_HEADER": "1",
            "DB_URL": f"postgres://postgres:{DB_PASSWORD}@logto-db:5432/logto",
            "ENDPOINT": "https://auth.test",
            "ADMIN_ENDPOINT": "https://auth.test:8443",
            "NODE_EXTRA_CA_CERTS": CA_IN_CONTAINER,
        },
        mounts={str(ca): f"{CA_IN_CONTAINER}:ro"},
        entrypoint=["sh", "-c", "npm run cli db seed -- --swe && npm run alteration deploy 1.37.1 && npm start"],
        ready=log_ready("Admin app is running"),
        timeout_s=90,
    )
    routes = {
        ("auth.test", 443): ("127.0.0.1", proxy.port(443)),
        ("auth.test", 8443): ("127.0.0.1", proxy.port(8443)),
    }
    with pinned_names(routes):
        CLIENT["id"], CLIENT["secret"] = provision_logto(
            ca,
            endpoint="https://auth.test",
            admin_endpoint="https://auth.test:8443",
            app_url=APP_URL,
            users={USER: PASSWORD},
        )
        s = Stack(harness, ca, database, routes)
        # its own APP_URL (the adapter self-call) resolves to itself on the network, as through the host's Nginx
        lobe = harness.start("lobechat", "lobe", aliases=("lobe.test",), **s.lobe_options({}))
        routes[("lobe.test", 3210)] = ("127.0.0.1", lobe.port(3210))
        s.main = lobe
        yield s


def sign_in(stack: Stack) -> str:
    """A browser's sign-in from /chat through Logto's form; returns where the app sends it in the end."""
    import requests

    session = requests.Session()
    chat = session.get(f"{APP_URL}/chat", timeout=10)
    csrf = re.search(r'name="csrfToken" value="([^"]+)"', chat.text).group(1)
    answer = session.post(
        f"{APP_URL}/api/auth/signin/logto",
        data={"csrfToken": csrf, "callbackUrl": f"{APP_URL}/chat"},
        allow_redirects=False,
        timeout=10,
    )
    location = answer.headers["Location"]
    if not location.startswith(f"{ISSUER}/auth?"):
        return location
    answer = session.get(location, allow_redirects=False, verify=stack.ca, timeout=10)
    form = urljoin(ISSUER, answer.headers["Location"])
    answer = session.post(
        form, data={"identifier": USER, "password": PASSWORD}, allow_redirects=False, verify=stack.ca, timeout=10
    )
    for _ in range(6):
        location = urljoin(answer.url, answer.headers["Location"])
        if location.startswith(APP_URL):
            callback = session.get(location, allow_redirects=False, timeout=15)
            stack.last_session = session
            return urljoin(APP_URL, callback.headers["Location"])
        answer = session.get(location, allow_redirects=False, verify=stack.ca, timeout=10)
    raise AssertionError(f"the sign-in never came back to the app (last: {location})")


def adapter(body: bytes | dict, authorization: str | None) -> tuple[int, object]:
    import requests

    headers = {"Authorization": authorization} if authorization else {}
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
    answer = requests.post(f"{APP_URL}/api/auth/adapter", headers=headers, timeout=10, **kwargs)
    return answer.status_code, answer.json() if answer.content else None


def test_image_labels_user_and_node_on_path(docker_client, standin_images, stack: Stack) -> None:
    image = docker_client.images.get(standin_images["lobechat"])
    assert image.labels["org.lobestack.standin"] == "true"
    assert image.labels["org.lobestack.role"] == "lobechat"
    assert image.attrs["Config"]["User"].startswith("1001")
    code, out = stack.main.exec(["node", "-e", "console.log(process.version)"])
    assert code == 0 and out.startswith("v22."), out


def test_starts_after_the_migration_with_the_compose_healthcheck(stack: Stack) -> None:
    assert "✅ database migration pass." in stack.main.logs()
    assert stack.psql("SELECT extname FROM pg_extension WHERE extname = 'vector'") == "vector"
    code, out = stack.main.exec(["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3210/api/auth/providers"])
    assert code == 0, out


def test_providers_have_the_callback_on_nextauth_url(stack: Stack) -> None:
    import requests

    answer = requests.get(f"{APP_URL}/api/auth/providers", timeout=10)
    assert answer.headers["Server"] == "lobestack-lobechat-standin"
    assert answer.json() == {
        "logto": {
            "id": "logto",
            "name": "Logto",
            "type": "oidc",
            "signinUrl": f"{APP_URL}/api/auth/signin/logto",
            "callbackUrl": f"{APP_URL}/api/auth/callback/logto",
        }
    }


@pytest.mark.parametrize(
    ("nextauth_url", "callback"),
    [
        ("http://0.0.0.0:3210/api/auth", "http://0.0.0.0:3210/api/auth/callback/logto"),
        ("", "http://0.0.0.0:3210/api/auth/callback/logto"),  # unset: Next.js standalone's own URL
        ("https://lobe.example.com", "https://lobe.example.com/api/auth/callback/logto"),  # no path: /api/auth
    ],
    ids=["internal-host", "empty", "origin-only"],
)
def test_providers_callback_follows_nextauth_url_as_next_auth_does(
    stack: Stack, nextauth_url: str, callback: str
) -> None:
    import requests

    with stack.variant("lobe-nextauth-url", NEXTAUTH_URL=nextauth_url):
        providers = requests.get(f"{APP_URL}/api/auth/providers", timeout=10).json()
    assert providers["logto"]["callbackUrl"] == callback


def test_adapter_route_answers_as_lobechat_1_143_3(stack: Stack) -> None:
    probe = {"action": "getUser", "data": "lobestack-probe-" + secrets.token_hex(4)}
    unauthorized = (401, {"error": "Unauthorized", "success": False})
    assert adapter(probe, None) == unauthorized
    assert adapter(probe, "Bearer wrong") == unauthorized
    assert adapter(probe, f"Bearer {KEY_VAULTS_SECRET}") == (200, {"data": None, "success": True})
    assert adapter({"action": "dropTables"}, f"Bearer {KEY_VAULTS_SECRET}") == (
        400,
        {"error": "Invalid action", "success": False},
    )
    assert adapter(b"not json", f"Bearer {KEY_VAULTS_SECRET}") == (400, {"error": {}, "success": False})


def test_sign_in_through_logto_stores_the_user_by_the_adapter_self_call(stack: Stack) -> None:

    assert sign_in(stack) == f"{APP_URL}/chat"
    session = stack.last_session
    assert f"Signed in as {USER}" in session.get(f"{APP_URL}/chat", timeout=10).text
    user = session.get(f"{APP_URL}/api/auth/session", timeout=10).json()["user"]
    assert stack.psql(f"SELECT provider FROM nextauth_accounts WHERE user_id = '{user['id']}'") == "logto"
    assert FOOTER in session.get(f"{APP_URL}/next-auth/signin", timeout=10).text


def test_adapter_self_call_through_a_proxy_dropping_authorization_fails_sign_in(stack: Stack) -> None:
    with stack.variant("lobe-behind-proxy", APP_URL="https://drops-authorization.test") as lobe:
        assert sign_in(stack) == f"{APP_URL}/next-auth/error?error=Configuration"
        assert "LobeNextAuthDbAdapter: Unauthorized" in lobe.logs()


def test_issuer_with_a_trailing_slash_fails_sign_in(stack: Stack) -> None:
    with stack.variant("lobe-slash", AUTH_LOGTO_ISSUER=f"{ISSUER}/") as lobe:
        assert sign_in(stack) == f"{APP_URL}/next-auth/error?error=Configuration"
        assert "issuer" in lobe.logs()


def test_issuer_certificate_not_trusted_fails_sign_in_with_fetch_failed(stack: Stack) -> None:
    with stack.variant("lobe-no-ca", NODE_EXTRA_CA_CERTS=None) as lobe:
        assert sign_in(stack) == f"{APP_URL}/next-auth/error?error=Configuration"
        assert "fetch failed" in lobe.logs()


def test_in_container_reach_with_node_and_the_extra_ca(stack: Stack) -> None:
    """What a live check runs: `docker exec lobe node -e fetch(issuer discovery)`, trusting NODE_EXTRA_CA_CERTS."""
    fetch = (
        f"fetch('{ISSUER}/.well-known/openid-configuration').then(r => r.json()).then(d => console.log(d.issuer))"
        ".catch(e => { console.log(e.message, e.cause && e.cause.code); process.exit(1); })"
    )
    assert stack.main.exec(["node", "-e", fetch]) == (0, f"{ISSUER}\n")
    code, out = stack.main.exec(["env", "-u", "NODE_EXTRA_CA_CERTS", "node", "-e", fetch])
    assert (code, out) == (1, "fetch failed UNABLE_TO_VERIFY_LEAF_SIGNATURE\n")


def test_key_vaults_secret_not_32_bytes_stops_the_start(stack: Stack) -> None:
    short = base64.b64encode(b"too-short").decode()
    code, log = stack.harness.run_to_exit("lobechat", "lobe-bad-key", env=lobe_env(KEY_VAULTS_SECRET=short))
    assert code == 1
    assert "Invalid key length" in log


def test_missing_pgvector_stops_the_migration(stack: Stack) -> None:
    stack.psql("CREATE DATABASE novector", db="postgres")
    control = "/usr/share/postgresql/17/extension/vector.control"
    assert stack.database.exec(["mv", control, f"{control}.away"])[0] == 0
    try:
        code, log = stack.harness.run_to_exit(
            "lobechat",
            "lobe-no-vector",
            env=lobe_env(DATABASE_URL=f"postgresql://postgres:{DB_PASSWORD}@lobe-db:5432/novector"),
        )
    finally:
        stack.database.exec(["mv", f"{control}.away", control])
    assert code == 1
    assert '❌ Database migrate failed: extension "vector" is not available' in log


def test_sign_in_page_needs_its_csrf_token_first(stack: Stack) -> None:
    """The sign-in page fetches its CSRF token itself (next-auth/react): posting before that ends on MissingCSRF."""
    import requests

    session = requests.Session()
    page = session.get(f"{APP_URL}/next-auth/signin?callbackUrl={APP_URL}/chat", timeout=10).text
    assert '<input type="hidden" name="csrfToken" value="">' in page and "fetch('/api/auth/csrf')" in page
    early = session.post(
        f"{APP_URL}/api/auth/signin/logto",
        data={"csrfToken": "", "callbackUrl": f"{APP_URL}/chat"},
        allow_redirects=False,
        timeout=10,
    )
    assert early.headers["Location"] == f"{APP_URL}/next-auth/signin?error=MissingCSRF"
