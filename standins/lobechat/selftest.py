#!/usr/bin/env python3
"""Self-test of the lobestack LobeChat stand-in image (lobestack/lobechat-standin:1).

Runs on the host (Docker engine, python3 + requests, openssl, node/npm for the test helper's
`npm ci`). Everything it starts is named lsdev-lobe-* and removed at the end; ports are published
on 127.0.0.1 only. Test-only helpers live in selftest/ (not part of the image):
  - lsdev-lobe-pg:1   throwaway PostgreSQL 15; pgvector is NOT in bookworm, so the "vector
                      available" case uses a STUB extension (empty control/SQL pair) and the
                      "missing" case removes it;
  - lsdev-lobe-aux:1  oidc-provider mounted at https://auth.test/oidc (private CA, ES384 ID
                      tokens, PKCE required, password login, auto-consent) + a path-style S3 fake
                      on http://s3.test:9000 and https://s3.test:9443 (cert from an untrusted CA).

Usage: python3 selftest.py [--no-build] [--keep]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests
import urllib3.util.connection

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = os.environ.get("STANDIN_IMAGE", "lobestack/lobechat-standin:1")
BASE_IMAGE = os.environ.get("BASE_IMAGE", "lobestack/bookworm-base:1")
P = "lsdev-lobe-"
NET = P + "net"
KEY_VAULTS = "ZXhhbXBsZS1rZXktdmF1bHRzLXNlY3JldC0zMmJ5dGU="  # base64 of 32 bytes
APP = "http://lobe.test:3210"
ISSUER = "https://auth.test/oidc"
CLIENT_ID, CLIENT_SECRET = "lobe-client", "lobe-client-secret-0123456789abcdef"
SUB = "u8tq2kz4lobe"

# ---------------------------------------------------------------- helpers
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    print(("PASS " if cond else "FAIL ") + name + ("" if cond else f"  -- {detail}"), flush=True)
    return cond


def sh(*args, check_rc=True, capture=True, **kw):
    r = subprocess.run(list(args), capture_output=capture, text=True, **kw)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} -> {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def docker(*args, **kw):
    return sh("docker", *args, **kw)


def rm(name):
    docker("rm", "-f", name, check_rc=False)


def port_of(name, port):
    out = docker("port", name, f"{port}/tcp").stdout.strip().splitlines()[0]
    return int(out.rsplit(":", 1)[1])


# host:port as the "browser" sees it -> 127.0.0.1:published port
ROUTES = {}
_orig_cc = urllib3.util.connection.create_connection


def _mapped_cc(address, *a, **kw):
    host, port = address
    return _orig_cc(ROUTES.get((host, port), (host, port)), *a, **kw)


urllib3.util.connection.create_connection = _mapped_cc


def logs(name):
    r = docker("logs", name, check_rc=False)
    return r.stdout + r.stderr


def wait_http(url, timeout=30, container=None):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if requests.get(url, timeout=2).status_code:  # any HTTP answer
                return True
        except requests.RequestException:
            pass
        if (
            container
            and docker("inspect", "-f", "{{.State.Running}}", container, check_rc=False).stdout.strip() != "true"
        ):
            return False
        time.sleep(0.3)
    return False


# ---------------------------------------------------------------- setup
def make_certs(d):
    def o(*a):
        sh("openssl", *a, cwd=d)

    o(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=lobestack selftest CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    o("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=auth.test", "-keyout", "auth.key", "-out", "auth.csr")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:auth.test,DNS:s3.test\nextendedKeyUsage=serverAuth\n")
    o(
        "x509",
        "-req",
        "-in",
        "auth.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "auth.crt",
    )
    o(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=s3.test",
        "-keyout",
        "rogue.key",
        "-out",
        "rogue.crt",
        "-addext",
        "subjectAltName=DNS:s3.test",
    )
    os.chmod(d, 0o755)
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)


def build(no_build):
    ca = os.path.join(HERE, "extra-ca.pem")
    if not os.path.exists(ca):
        shutil.copy("/etc/ssl/certs/ca-certificates.crt", ca)
    envb = dict(os.environ, DOCKER_BUILDKIT="0")
    if not no_build:
        t = time.time()
        sh("docker", "build", "-q", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE, HERE, env=envb)
        print(f"built {IMAGE} in {time.time() - t:.1f}s", flush=True)
    aux = os.path.join(HERE, "selftest", "aux")
    if not os.path.isdir(os.path.join(aux, "node_modules")):
        sh("npm", "ci", "--no-audit", "--no-fund", cwd=aux)
    sh("docker", "build", "-q", "--build-arg", f"STANDIN_IMAGE={IMAGE}", "-t", P + "aux:1", aux, env=envb)
    sh(
        "docker",
        "build",
        "-q",
        "--build-arg",
        f"BASE_IMAGE={BASE_IMAGE}",
        "-t",
        P + "pg:1",
        os.path.join(HERE, "selftest", "pg"),
        env=envb,
    )


def app_env(**over):
    e = {
        "APP_URL": APP,
        "NEXTAUTH_URL": APP + "/api/auth",
        "NEXT_AUTH_SECRET": "selftest-next-auth-secret-0123456789abcdef",
        "NEXT_AUTH_SSO_PROVIDERS": "logto",
        "AUTH_LOGTO_ID": CLIENT_ID,
        "AUTH_LOGTO_SECRET": CLIENT_SECRET,
        "AUTH_LOGTO_ISSUER": ISSUER,
        "KEY_VAULTS_SECRET": KEY_VAULTS,
        "DATABASE_URL": f"postgres://postgres:pw@{P}pg:5432/postgres",
        "S3_ENDPOINT": "http://s3.test:9000",
        "S3_PUBLIC_DOMAIN": "http://s3.test:9000",
        "S3_BUCKET": "lobe",
        "S3_ENABLE_PATH_STYLE": "1",
        "S3_ACCESS_KEY_ID": "selftestaccess",
        "S3_SECRET_ACCESS_KEY": "selftestsecret0123456789",
        "NODE_EXTRA_CA_CERTS": "/certs/ca.crt",
    }
    e.update(over)
    return {k: v for k, v in e.items() if v is not None}


def run_app(certs, name=P + "app", detach=True, **over):
    rm(name)
    args = [
        "run",
        "--init",
        "--name",
        name,
        "--network",
        NET,
        "--network-alias",
        "lobe.test",
        "-v",
        f"{certs}:/certs:ro",
        "-p",
        "127.0.0.1::3210",
    ]
    for k, v in app_env(**over).items():
        args += ["-e", f"{k}={v}"]
    if detach:
        docker(*args, "-d", IMAGE)
        port = port_of(name, 3210)
        ROUTES[("lobe.test", 3210)] = ("127.0.0.1", port)
        ok = wait_http(f"{APP}/api/auth/providers", container=name)
        if not ok:
            print(logs(name))
        return ok
    r = docker(*args, "--rm", IMAGE, check_rc=False)
    return r


# ---------------------------------------------------------------- the flows
def sign_in(s, expect_ok=True):
    """Browser-like sign-in from /chat. Returns (final_url, history)."""
    r = s.get(f"{APP}/chat")
    csrf = re.search(r'name="csrfToken" value="([^"]*)"', r.text).group(1)
    r = s.post(
        f"{APP}/api/auth/signin/logto", data={"csrfToken": csrf, "callbackUrl": f"{APP}/chat"}, allow_redirects=False
    )
    loc = r.headers.get("location", "")
    if not loc.startswith(ISSUER + "/auth?"):
        return loc, r
    r = s.get(loc, allow_redirects=True, verify=CA_FILE)  # -> interaction login page
    uid = re.search(r'/oidc/interaction/([^/"]+)/login', r.text).group(1)
    r = s.post(
        f"{ISSUER}/interaction/{uid}/login",
        data={"identifier": "alice", "password": "alice-pass-123"},
        allow_redirects=False,
        verify=CA_FILE,
    )
    # follow redirects by hand until we leave the issuer (consent is automatic)
    for _ in range(10):
        loc = r.headers.get("location")
        if not loc:
            break
        loc = urllib.parse.urljoin(r.url, loc)
        if loc.startswith(APP):
            r = s.get(loc, allow_redirects=False)  # the callback
            return r.headers.get("location", ""), r
        r = s.get(loc, allow_redirects=False, verify=CA_FILE)
    return "", r


def main():
    global CA_FILE
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-build", action="store_true", help="use the existing image")
    ap.add_argument("--keep", action="store_true", help="leave containers running")
    opts = ap.parse_args()

    certs = tempfile.mkdtemp(prefix="lsdev-lobe-certs-")
    make_certs(certs)
    CA_FILE = os.path.join(certs, "ca.crt")
    build(opts.no_build)

    names = [P + x for x in ("app", "pg", "aux", "bad")]
    for n in names:
        rm(n)
    docker("network", "rm", NET, check_rc=False)
    docker("network", "create", "--label", "org.lobestack.selftest=lobechat", NET)
    try:
        # ---- image metadata
        labels = json.loads(docker("inspect", "-f", "{{json .Config.Labels}}", IMAGE).stdout)
        check("label org.lobestack.standin=true", labels.get("org.lobestack.standin") == "true", labels)
        check("label org.lobestack.role=lobechat", labels.get("org.lobestack.role") == "lobechat", labels)
        check("description says STAND-IN", "STAND-IN" in labels.get("org.opencontainers.image.description", ""))
        user = docker("inspect", "-f", "{{.Config.User}}", IMAGE).stdout.strip()
        check("runs as uid 1001", user.startswith("1001"), user)
        r = docker(
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            IMAGE,
            "-c",
            "ls /tmp/extra-ca.pem /etc/ssl/certs/ca-certificates.crt 2>/dev/null; "
            "grep -rlE '^-----BEGIN CERTIFICATE-----' /app /etc /tmp /root /opt /usr/local/lib 2>/dev/null"
            " | head; true",
        )
        check("no CA bundle baked into the image", r.stdout.strip() == "", r.stdout)

        # ---- dependencies
        docker("run", "-d", "--name", P + "pg", "--network", NET, "-e", "PGVECTOR_STUB=0", P + "pg:1")
        docker(
            "run",
            "-d",
            "--name",
            P + "aux",
            "--network",
            NET,
            "--network-alias",
            "auth.test",
            "--network-alias",
            "s3.test",
            "--network-alias",
            "noauth-proxy.test",
            "-v",
            f"{certs}:/certs:ro",
            "-e",
            f"REDIRECT_URIS={APP}/api/auth/callback/logto",
            "-p",
            "127.0.0.1::443",
            "-p",
            "127.0.0.1::9000",
            P + "aux:1",
        )
        ROUTES[("auth.test", 443)] = ("127.0.0.1", port_of(P + "aux", 443))
        ROUTES[("s3.test", 9000)] = ("127.0.0.1", port_of(P + "aux", 9000))
        for _ in range(60):
            if "ready to accept connections" in logs(P + "pg"):
                break
            time.sleep(0.5)

        # ---- start-up failures
        r = run_app(certs, name=P + "bad", detach=False, KEY_VAULTS_SECRET="dG9vLXNob3J0")  # "too-short"
        check("bad KEY_VAULTS_SECRET: exits non-zero", r.returncode != 0, r.returncode)
        check(
            'bad KEY_VAULTS_SECRET: logs "Invalid key length"',
            "Invalid key length" in r.stdout + r.stderr,
            r.stdout + r.stderr,
        )
        r = run_app(certs, name=P + "bad", detach=False)
        out = r.stdout + r.stderr
        check("pgvector missing: exits non-zero", r.returncode != 0, r.returncode)
        check(
            'pgvector missing: logs extension "vector" is not available',
            'extension "vector" is not available' in out,
            out,
        )
        docker(
            "exec",
            P + "pg",
            "cp",
            "/opt/vector.control",
            "/opt/vector--0.0.0.sql",
            "/usr/share/postgresql/15/extension/",
        )

        # ---- good start
        ok = run_app(certs)
        check("app starts (pgvector stub present)", ok, logs(P + "app"))
        check('logs "✅ database migration pass."', "✅ database migration pass." in logs(P + "app"))
        r = docker(
            "exec",
            P + "app",
            "wget",
            "-q",
            "-O",
            "/dev/null",
            "http://127.0.0.1:3210/api/auth/providers",
            check_rc=False,
        )
        check("compose healthcheck (wget) passes", r.returncode == 0, r.stderr)
        s = requests.Session()
        r = s.get(f"{APP}/api/auth/providers")
        check("Server header", r.headers.get("server") == "lobestack-lobechat-standin", r.headers)
        lg = r.json().get("logto", {})
        check(
            "/api/auth/providers",
            lg
            == {
                "id": "logto",
                "name": "Logto",
                "type": "oidc",
                "signinUrl": f"{APP}/api/auth/signin/logto",
                "callbackUrl": f"{APP}/api/auth/callback/logto",
            },
            r.text,
        )
        r = s.get(f"{APP}/", allow_redirects=False)
        check(
            "/ redirects to /chat",
            r.status_code in (302, 307, 308) and r.headers["location"].endswith("/chat"),
            (r.status_code, r.headers),
        )
        r = s.get(f"{APP}/chat")
        check(
            '/chat: "Log In / Sign Up" form to /api/auth/signin/logto',
            "Log In / Sign Up" in r.text
            and 'action="/api/auth/signin/logto"' in r.text
            and 'name="csrfToken"' in r.text
            and f'value="{APP}/chat"' in r.text,
            r.text,
        )
        check("/chat: stand-in footer", "lobestack stand-in for LobeChat — not the real LobeChat" in r.text)
        r = s.get(f"{APP}/next-auth/signin", params={"callbackUrl": f"{APP}/chat"})
        check(
            '/next-auth/signin: button "Logto"',
            re.search(r"<button[^>]*>Logto</button>", r.text) and 'action="/api/auth/signin/logto"' in r.text,
            r.text,
        )
        r = s.get(f"{APP}/api/auth/signin", allow_redirects=False)
        check(
            "GET /api/auth/signin -> /next-auth/signin", "/next-auth/signin" in r.headers.get("location", ""), r.headers
        )
        r = s.get(f"{APP}/next-auth/error", params={"error": "Configuration"})
        check("/next-auth/error page", "Configuration" in r.text and "not the real LobeChat" in r.text)
        r = s.get(f"{APP}/api/auth/session")
        check("session before sign-in is empty", r.status_code == 200 and not (r.json() or {}).get("user"), r.text)
        r = s.post(f"{APP}/api/upload/presign", json={"pathname": "files/x.txt"})
        check("presign before sign-in: 401", r.status_code == 401, r.status_code)
        r = requests.post(f"{APP}/api/auth/adapter", json={"action": "getUser", "data": "x"})
        check("adapter without bearer: 401", r.status_code == 401, r.status_code)
        r = requests.post(
            f"{APP}/api/auth/adapter",
            json={"action": "getUser", "data": "x"},
            headers={"Authorization": "Bearer wrong"},
        )
        check("adapter with wrong bearer: 401", r.status_code == 401, r.status_code)
        r = requests.post(
            f"{APP}/api/auth/adapter",
            json={"action": "getUser", "data": "x"},
            headers={"Authorization": f"Bearer {KEY_VAULTS}"},
        )
        check("adapter with the right bearer: 200", r.status_code == 200 and r.json()["success"], r.text)

        # ---- sign-in redirect to the issuer
        r = s.get(f"{APP}/chat")
        csrf = re.search(r'name="csrfToken" value="([^"]+)"', r.text).group(1)
        r = s.post(
            f"{APP}/api/auth/signin/logto",
            data={"csrfToken": csrf, "callbackUrl": f"{APP}/chat"},
            allow_redirects=False,
        )
        loc = r.headers.get("location", "")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        check(
            "sign-in POST redirects to ISSUER/auth",
            r.status_code == 302 and loc.startswith(ISSUER + "/auth?"),
            (r.status_code, loc, logs(P + "app")[-2000:]),
        )
        check(
            "authorize: client_id, redirect_uri, response_type=code",
            q.get("client_id") == [CLIENT_ID]
            and q.get("redirect_uri") == [f"{APP}/api/auth/callback/logto"]
            and q.get("response_type") == ["code"],
            q,
        )
        check("authorize: PKCE S256", q.get("code_challenge_method") == ["S256"] and q.get("code_challenge"), q)
        check(
            "authorize: scope openid offline_access profile email",
            sorted(q.get("scope", [""])[0].split()) == sorted(["openid", "offline_access", "profile", "email"]),
            q,
        )

        # ---- full flow
        s = requests.Session()
        final, r = sign_in(s)
        check(
            "full sign-in ends on /chat",
            final == f"{APP}/chat",
            (final, getattr(r, "text", "")[:500], logs(P + "app")[-3000:]),
        )
        r = s.get(f"{APP}/chat")
        check('/chat shows "Signed in as Alice Example"', "Signed in as Alice Example" in r.text, r.text[:800])
        sess = s.get(f"{APP}/api/auth/session").json()
        check("session user.id = OIDC sub", (sess.get("user") or {}).get("id") == SUB, sess)
        check("session user.email", (sess.get("user") or {}).get("email") == "alice@example.test", sess)
        r = docker(
            "exec",
            P + "pg",
            "psql",
            "-U",
            "postgres",
            "-tAc",
            "select u.id||'|'||a.provider from users u join nextauth_accounts a on a.user_id=u.id",
        )
        check("adapter self-call stored user + account", r.stdout.strip() == f"{SUB}|logto", r.stdout)

        # ---- upload
        r = s.post(f"{APP}/api/upload/presign", json={"pathname": "files/x.txt"})
        body = r.json() if r.ok else {}
        up = urllib.parse.urlsplit(body.get("uploadUrl", ""))
        uq = urllib.parse.parse_qs(up.query)
        check(
            "presign: path-style URL on S3_ENDPOINT",
            up.netloc == "s3.test:9000" and up.path == "/lobe/files/x.txt",
            body or r.text,
        )
        check("presign: SigV4, 1 h", uq.get("X-Amz-Expires") == ["3600"] and "X-Amz-Signature" in uq, uq)
        check(
            "presign: fileUrl = S3_PUBLIC_DOMAIN/bucket/key",
            body.get("fileUrl") == "http://s3.test:9000/lobe/files/x.txt" and body.get("key") == "files/x.txt",
            body,
        )
        data = b"hello from the lobestack selftest\n"
        r = requests.put(body["uploadUrl"], data=data)
        check("PUT to presigned URL", r.status_code == 200, r.status_code)
        r = s.get(f"{APP}/api/upload/read", params={"key": "files/x.txt"})
        check("read back through S3_ENDPOINT", r.status_code == 200 and r.content == data, (r.status_code, r.text))

        # ---- sign-out (on a copy of the session; the cookie is reused below)
        s2 = requests.Session()
        s2.cookies.update(s.cookies)
        r = s2.get(f"{APP}/chat")
        csrf = re.search(r'name="csrfToken" value="([^"]+)"', r.text).group(1)
        r = s2.post(
            f"{APP}/api/auth/signout", data={"csrfToken": csrf, "callbackUrl": f"{APP}/chat"}, allow_redirects=False
        )
        after = s2.get(f"{APP}/api/auth/session").json()
        check(
            "sign-out clears the session",
            r.status_code == 302 and not (after or {}).get("user"),
            (r.status_code, after),
        )

        # ---- variants (same NEXT_AUTH_SECRET + origin, so the session cookie stays valid)
        ok = run_app(certs, S3_SET_ACL="0")
        r = s.post(f"{APP}/api/upload/presign", json={"pathname": "files/x.txt"})
        fq = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json().get("fileUrl", "")).query)
        check("S3_SET_ACL=0: fileUrl is a presigned GET", ok and "X-Amz-Signature" in fq, r.text)

        ok = run_app(certs, S3_ENDPOINT="https://s3.test:9443")
        r = s.get(f"{APP}/api/upload/read", params={"key": "files/x.txt"})
        check(
            "S3 with an untrusted cert: read fails naming the TLS cause",
            ok and r.status_code >= 500 and re.search(r"SELF_SIGNED|UNABLE_TO_VERIFY|certificate", r.text),
            (r.status_code, r.text),
        )

        ok = run_app(certs, S3_ENDPOINT="")
        r = s.post(f"{APP}/api/upload/presign", json={"pathname": "files/x.txt"})
        check(
            'empty S3_ENDPOINT: 500 "Invalid url"',
            ok and r.status_code == 500 and "Invalid url" in r.text,
            (r.status_code, r.text),
        )

        ok = run_app(certs, APP_URL="http://lobe.test:3299")  # adapter self-call cannot connect
        final, r = sign_in(requests.Session())
        check(
            "adapter self-call failing -> error=Configuration",
            ok and final.endswith("/next-auth/error?error=Configuration"),
            (final, logs(P + "app")[-1500:]),
        )
        check("adapter failure logged", "[adapter]" in logs(P + "app"))

        ok = run_app(certs, APP_URL="http://noauth-proxy.test:8080")  # proxy drops Authorization
        final, r = sign_in(requests.Session())
        check(
            "proxy dropping Authorization on the adapter self-call -> error=Configuration",
            ok and final.endswith("/next-auth/error?error=Configuration") and "answered 401" in logs(P + "app"),
            (final, logs(P + "app")[-1500:]),
        )

        ok = run_app(certs, NODE_EXTRA_CA_CERTS=None)  # issuer certificate not trusted
        final, r = sign_in(requests.Session())
        check(
            "untrusted issuer cert -> error=Configuration",
            ok and final.endswith("/next-auth/error?error=Configuration"),
            final,
        )
        check('untrusted issuer cert: logs "fetch failed"', "fetch failed" in logs(P + "app"), logs(P + "app")[-1500:])

        ok = run_app(certs, AUTH_LOGTO_ISSUER=ISSUER + "/")  # trailing slash
        final, r = sign_in(requests.Session())
        check(
            "issuer with trailing slash -> error=Configuration",
            ok and final.endswith("/next-auth/error?error=Configuration"),
            final,
        )

        ok = run_app(certs, AUTH_LOGTO_ISSUER=None, LOGTO_ISSUER=ISSUER)  # deprecated name: works, warns
        final, r = sign_in(requests.Session())
        check(
            "deprecated LOGTO_ISSUER: sign-in works with a deprecation warning",
            ok and final == f"{APP}/chat" and "LOGTO_ISSUER is deprecated" in logs(P + "app"),
            final,
        )

        ok = run_app(certs, AUTH_LOGTO_ISSUER=None)  # misspelt/missing issuer
        r = requests.get(f"{APP}/api/auth/providers")
        check(
            "missing AUTH_LOGTO_ISSUER: /api/auth/providers answers 500 (healthcheck fails)",
            ok and r.status_code == 500,
            (r.status_code, r.text),
        )
        final, r = sign_in(requests.Session())
        check(
            "missing AUTH_LOGTO_ISSUER: sign-in refused, InvalidEndpoints logged",
            not final.startswith(ISSUER) and r.status_code == 500 and "InvalidEndpoints" in logs(P + "app"),
            (final, r.status_code, logs(P + "app")[-800:]),
        )

        t = time.time()
        docker("stop", P + "app")
        check("stops promptly on SIGTERM (init)", time.time() - t < 5, time.time() - t)
    finally:
        if not opts.keep:
            for n in names:
                rm(n)
            docker("network", "rm", NET, check_rc=False)
        shutil.rmtree(certs, ignore_errors=True)

    failed = [n for n, ok in results if not ok]
    print(f"\n{len(results) - len(failed)}/{len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
