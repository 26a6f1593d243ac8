#!/usr/bin/env python3
"""Black-box self-test of the lobestack Logto stand-in (works against anything speaking its contract).

    python3 selftest.py --base http://127.0.0.1:13001 --client-id X --client-secret Y --user U --password P \
        [--app-url http://localhost:3210] [--admin-base http://127.0.0.1:13002]

The registered redirect_uri is ${APP_URL}/api/auth/callback/logto (APP_URL of the container, default
http://localhost:3210). Needs `requests`; verifies the ID token's ES384 signature when `cryptography`
is installed. Exits 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

SERVER = "lobestack-logto-standin"
FOOTER = "lobestack stand-in for Logto — not the real Logto"
SCOPE = "openid offline_access profile email"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Dom(HTMLParser):
    """Tiny DOM summary: inputs by name, buttons (name, text), role=alert texts, title, links, all text."""

    def __init__(self, html: str):
        super().__init__()
        self.inputs: dict[str, dict] = {}
        self.buttons: list[dict] = []
        self.alerts: list[str] = []
        self.links: list[dict] = []
        self.title = ""
        self.text: list[str] = []
        self._stack: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a
        if tag in ("input", "meta", "br", "link", "img"):
            return
        el = {"tag": tag, "attrs": a, "text": ""}
        self._stack.append((tag, el))
        if tag == "button":
            self.buttons.append(el)
        if tag == "a":
            self.links.append(el)

    def handle_endtag(self, tag):
        while self._stack:
            t, el = self._stack.pop()
            if t == "title":
                self.title = el["text"].strip()
            if el["attrs"].get("role") == "alert":
                self.alerts.append(el["text"].strip())
            if t == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        for _, el in self._stack:
            el["text"] += data

    @property
    def all_text(self):
        return " ".join(" ".join(self.text).split())


class SelfTest:
    def __init__(self, args):
        self.a = args
        self.base = args.base.rstrip("/")
        self.issuer = self.base + "/oidc"
        self.redirect_uri = args.app_url.rstrip("/") + "/api/auth/callback/logto"
        self.results: list[tuple[bool, str, str]] = []
        self.disc: dict = {}
        self.jwks: dict = {}

    # ------------------------------------------------------------------ helpers
    def run(self, name, fn):
        try:
            detail = fn() or ""
            self.results.append((True, name, detail))
            print(f"PASS  {name}{(' - ' + detail) if detail else ''}")
        except Exception as e:
            self.results.append((False, name, str(e)))
            print(f"FAIL  {name} - {type(e).__name__}: {e}")

    def server_header(self, r):
        check(r.headers.get("Server") == SERVER, f"Server header is {r.headers.get('Server')!r}, want {SERVER!r}")

    def pkce(self):
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return verifier, challenge

    def auth_params(self, challenge, state, nonce, **extra):
        p = {
            "client_id": self.a.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": SCOPE,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "prompt": "consent",
        }
        p.update(extra)
        return p

    def follow_until_callback(self, s, r, limit=10):
        """Follow redirects manually until one points at the client's redirect_uri; return its query."""
        for _ in range(limit):
            self.server_header(r)
            check(r.status_code in (302, 303), f"expected a redirect, got {r.status_code}: {r.text[:300]}")
            loc = urljoin(r.url, r.headers["Location"])
            if loc.startswith(self.redirect_uri):
                return {k: v[0] for k, v in parse_qs(urlsplit(loc).query).items()}
            r = s.get(loc, allow_redirects=False, timeout=10)
        raise Failure("redirect_uri never reached")

    # ------------------------------------------------------------------ checks
    def t_status(self):
        r = requests.get(self.base + "/api/status", timeout=10)
        check(r.status_code == 204, f"/api/status answered {r.status_code}")
        self.server_header(r)
        return "204"

    def t_discovery(self):
        r = requests.get(self.issuer + "/.well-known/openid-configuration", timeout=10)
        check(r.status_code == 200, f"discovery answered {r.status_code}")
        self.server_header(r)
        d = self.disc = r.json()
        check(d["issuer"] == self.issuer, f"issuer {d['issuer']!r} != {self.issuer!r}")
        want = {
            "authorization_endpoint": "/oidc/auth",
            "token_endpoint": "/oidc/token",
            "userinfo_endpoint": "/oidc/me",
            "jwks_uri": "/oidc/jwks",
            "end_session_endpoint": "/oidc/session/end",
        }
        for key, path in want.items():
            check(d.get(key) == self.base + path, f"{key} = {d.get(key)!r}, want {self.base + path!r}")
        check(
            d.get("id_token_signing_alg_values_supported") == ["ES384"],
            f"id_token_signing_alg_values_supported = {d.get('id_token_signing_alg_values_supported')}",
        )
        check(
            d.get("code_challenge_methods_supported") == ["S256"],
            f"code_challenge_methods_supported = {d.get('code_challenge_methods_supported')}",
        )
        for sc in SCOPE.split():
            check(sc in d.get("scopes_supported", []), f"scope {sc} not supported")
        for c in ("sub", "name", "username", "email"):
            check(c in d.get("claims_supported", []), f"claim {c} not in claims_supported")
        check("client_secret_basic" in d.get("token_endpoint_auth_methods_supported", []), "no client_secret_basic")
        return f"issuer {d['issuer']}"

    def t_forwarded_proto(self):
        """Endpoints follow X-Forwarded-Proto/Host (TRUST_PROXY_HEADER=1) while the issuer stays fixed."""
        host = urlsplit(self.base).netloc
        r = requests.get(
            self.issuer + "/.well-known/openid-configuration",
            timeout=10,
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": host},
        )
        d = r.json()
        check(d["issuer"] == self.issuer, "issuer changed with X-Forwarded-Proto")
        scheme = urlsplit(d["token_endpoint"]).scheme
        if self.a.expect_trust_proxy:
            check(scheme == "https", f"token_endpoint {d['token_endpoint']} ignores X-Forwarded-Proto")
            return "endpoints turn https with X-Forwarded-Proto, issuer unchanged"
        return f"with X-Forwarded-Proto https the token_endpoint is {d['token_endpoint']} (informative)"

    def t_jwks(self):
        r = requests.get(self.disc.get("jwks_uri") or self.issuer + "/jwks", timeout=10)
        check(r.status_code == 200, f"jwks answered {r.status_code}")
        self.server_header(r)
        self.jwks = r.json()
        keys = self.jwks.get("keys", [])
        check(keys, "JWKS has no keys")
        ec = [k for k in keys if k.get("kty") == "EC" and k.get("crv") == "P-384"]
        check(ec, f"no P-384 key in JWKS: {keys}")
        check(all("d" not in k for k in keys), "JWKS exposes a private key")
        check(all(k.get("alg") in (None, "ES384") for k in ec), "EC key alg is not ES384")
        return f"{len(keys)} key(s), kid {ec[0].get('kid')}"

    def t_code_flow(self):
        s = requests.Session()
        verifier, challenge = self.pkce()
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        # like LobeChat (Auth.js): no prompt parameter
        r = s.get(
            self.disc["authorization_endpoint"],
            params=self.auth_params(challenge, state, nonce, prompt=None),
            allow_redirects=False,
            timeout=10,
        )
        self.server_header(r)
        check(r.status_code in (302, 303), f"/oidc/auth answered {r.status_code}: {r.text[:300]}")
        loc = urljoin(r.url, r.headers["Location"])
        check(urlsplit(loc).path == "/sign-in", f"auth redirected to {loc}, want /sign-in")
        check(parse_qs(urlsplit(loc).query).get("app_id") == [self.a.client_id], f"no app_id in {loc}")

        r = s.get(loc, allow_redirects=False, timeout=10)
        check(r.status_code == 200, f"/sign-in answered {r.status_code}")
        self.server_header(r)
        dom = Dom(r.text)
        check("identifier" in dom.inputs and "password" in dom.inputs, f"form inputs: {list(dom.inputs)}")
        submit = [b for b in dom.buttons if b["attrs"].get("name") == "submit"]
        check(submit and submit[0]["text"].strip() == "Sign in", "no button[name=submit] with text 'Sign in'")
        check(FOOTER in dom.all_text, "stand-in footer missing on the sign-in page")
        check(not dom.alerts, f"unexpected alert before submitting: {dom.alerts}")

        # wrong password -> role=alert, still on the form
        r = s.post(
            loc,
            data={"identifier": self.a.user, "password": self.a.password + "-wrong"},
            allow_redirects=False,
            timeout=10,
        )
        dom = Dom(r.text)
        check(
            r.status_code == 200 and any("Invalid credentials" in t for t in dom.alerts),
            f"wrong password: status {r.status_code}, alerts {dom.alerts}",
        )

        r = s.post(
            loc, data={"identifier": self.a.user, "password": self.a.password}, allow_redirects=False, timeout=10
        )
        q = self.follow_until_callback(s, r)
        check("code" in q, f"no code in callback: {q}")
        check(q.get("state") == state, "state mismatch")
        check(q.get("iss") == self.issuer, f"iss {q.get('iss')!r} != issuer")
        self.session = s

        tok = requests.post(
            self.disc["token_endpoint"],
            timeout=10,
            auth=(self.a.client_id, self.a.client_secret),
            data={
                "grant_type": "authorization_code",
                "code": q["code"],
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
        )
        self.server_header(tok)
        check(tok.status_code == 200, f"token endpoint {tok.status_code}: {tok.text[:300]}")
        t = tok.json()
        check(t.get("token_type", "").lower() == "bearer", f"token_type {t.get('token_type')}")
        for k in ("access_token", "id_token"):
            check(k in t, f"no {k} in token response (keys {list(t)})")
        self.tokens = t

        header = json.loads(b64url_decode(t["id_token"].split(".")[0]))
        claims = json.loads(b64url_decode(t["id_token"].split(".")[1]))
        check(header.get("alg") == "ES384", f"id_token alg {header.get('alg')}")
        check(claims.get("iss") == self.issuer, f"id_token iss {claims.get('iss')}")
        check(claims.get("aud") in (self.a.client_id, [self.a.client_id]), f"id_token aud {claims.get('aud')}")
        check(claims.get("nonce") == nonce, "id_token nonce mismatch")
        for c in ("sub", "name", "username", "email"):
            check(c in claims, f"id_token lacks {c}: {claims}")
        check(claims["username"] == self.a.user, f"username {claims['username']!r}")
        self.sub = claims["sub"]
        verified = self.verify_sig(t["id_token"], header)
        return f"sub {claims['sub']}, username {claims['username']}, id_token ES384 {verified}"

    def verify_sig(self, jwt, header):
        try:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        except ImportError:
            return "(signature not verified: no cryptography module)"
        key = next((k for k in self.jwks["keys"] if k.get("kid") == header.get("kid")), None)
        check(key is not None, f"kid {header.get('kid')} not in JWKS")
        pub = ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64url_decode(key["x"]), "big"),
            int.from_bytes(b64url_decode(key["y"]), "big"),
            ec.SECP384R1(),
        ).public_key()
        h, p, sig = jwt.split(".")
        raw = b64url_decode(sig)
        check(len(raw) == 96, f"ES384 signature length {len(raw)}")
        der = encode_dss_signature(int.from_bytes(raw[:48], "big"), int.from_bytes(raw[48:], "big"))
        pub.verify(der, f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA384()))
        return "signature verified"

    def t_userinfo(self):
        r = requests.get(
            self.disc["userinfo_endpoint"],
            timeout=10,
            headers={"Authorization": f"Bearer {self.tokens['access_token']}"},
        )
        self.server_header(r)
        check(r.status_code == 200, f"userinfo {r.status_code}: {r.text[:200]}")
        u = r.json()
        check(u.get("sub") == self.sub, "userinfo sub differs from id_token sub")
        check(u.get("username") == self.a.user and u.get("email") and u.get("name"), f"userinfo {u}")
        return json.dumps(u, sort_keys=True)

    def sso_code(self, verifier_challenge, prompt):
        _, challenge = verifier_challenge
        r = self.session.get(
            self.disc["authorization_endpoint"],
            allow_redirects=False,
            timeout=10,
            params=self.auth_params(challenge, "s2", "n2", prompt=prompt),
        )
        return self.follow_until_callback(self.session, r)["code"]

    def token(self, code, verifier):
        return requests.post(
            self.disc["token_endpoint"],
            timeout=10,
            auth=(self.a.client_id, self.a.client_secret),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            },
        )

    def t_sso_and_pkce_mismatch(self):
        """Second authorization in the same browser session: no form, straight to the callback;
        a wrong code_verifier is refused."""
        pk = self.pkce()
        tok = self.token(self.sso_code(pk, None), pk[0] + "x")
        check(
            tok.status_code == 400 and tok.json().get("error") == "invalid_grant",
            f"wrong code_verifier: {tok.status_code} {tok.text[:200]}",
        )
        return "SSO session reused (no form); wrong PKCE verifier -> invalid_grant"

    def t_refresh(self):
        """prompt=consent + offline_access (first-party: no consent screen) -> refresh token that works."""
        pk = self.pkce()
        tok = self.token(self.sso_code(pk, "consent"), pk[0])
        check(tok.status_code == 200, f"token {tok.status_code}: {tok.text[:200]}")
        t = tok.json()
        check("refresh_token" in t, f"no refresh_token with prompt=consent + offline_access (keys {list(t)})")
        self.tokens["refresh_token"] = t["refresh_token"]
        r = requests.post(
            self.disc["token_endpoint"],
            timeout=10,
            auth=(self.a.client_id, self.a.client_secret),
            data={"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
        )
        check(r.status_code == 200 and "access_token" in r.json(), f"refresh {r.status_code}: {r.text[:200]}")
        return "refresh_token issued and accepted"

    def t_bad_secret(self):
        r = requests.post(
            self.disc["token_endpoint"],
            timeout=10,
            auth=(self.a.client_id, "wrong-secret"),
            data={"grant_type": "refresh_token", "refresh_token": self.tokens.get("refresh_token", "x")},
        )
        check(r.status_code == 401 and r.json().get("error") == "invalid_client", f"{r.status_code} {r.text[:200]}")
        return "401 invalid_client"

    def t_bad_redirect_uri(self):
        _, challenge = self.pkce()
        p = self.auth_params(challenge, "s", "n", redirect_uri=self.redirect_uri + "-not-registered")
        r = requests.get(self.disc["authorization_endpoint"], params=p, allow_redirects=False, timeout=10)
        self.server_header(r)
        check(r.status_code == 400 and "invalid_redirect_uri" in r.text, f"{r.status_code} {r.text[:300]}")
        return f"400 {r.text[:120]}"

    def t_unknown_client(self):
        _, challenge = self.pkce()
        p = self.auth_params(challenge, "s", "n", client_id="no-such-client")
        r = requests.get(self.disc["authorization_endpoint"], params=p, allow_redirects=False, timeout=10)
        check(r.status_code == 400 and "invalid_client" in r.text, f"{r.status_code} {r.text[:300]}")
        return f"400 {r.text[:120]}"

    def t_unknown_session(self):
        r = requests.get(self.base + "/sign-in?app_id=" + self.a.client_id, allow_redirects=False, timeout=10)
        check(
            r.status_code in (302, 303) and r.headers["Location"].endswith("/unknown-session"),
            f"/sign-in without an interaction: {r.status_code} {r.headers.get('Location')}",
        )
        return "-> /unknown-session"

    def t_end_session(self):
        r = self.session.get(
            self.disc["end_session_endpoint"],
            timeout=10,
            allow_redirects=False,
            params={"client_id": self.a.client_id, "post_logout_redirect_uri": self.a.app_url.rstrip("/")},
        )
        check(r.status_code == 200 and FOOTER in Dom(r.text).all_text, f"end_session page {r.status_code}")
        dom = Dom(r.text)
        xsrf = dom.inputs.get("xsrf", {}).get("value")
        check(xsrf, "no xsrf in the logout form")
        r = self.session.post(
            self.issuer + "/session/end/confirm",
            data={"xsrf": xsrf, "logout": "yes"},
            allow_redirects=False,
            timeout=10,
        )
        check(
            r.status_code in (302, 303) and r.headers["Location"].startswith(self.a.app_url.rstrip("/")),
            f"logout confirm: {r.status_code} {r.headers.get('Location')}",
        )
        return f"-> {r.headers['Location']}"

    def t_admin(self):
        admin = self.a.admin_base.rstrip("/")
        r = requests.get(admin + "/console", allow_redirects=False, timeout=10)
        self.server_header(r)
        check(
            r.status_code == 302 and r.headers["Location"].endswith("/console/welcome"),
            f"/console: {r.status_code} {r.headers.get('Location')}",
        )
        r = requests.get(admin + "/console/welcome", timeout=10)
        dom = Dom(r.text)
        check(r.status_code == 200 and "Logto Console" in dom.title, f"welcome: {r.status_code} title {dom.title!r}")
        check(any(link["text"].strip() == "Create account" for link in dom.links), "no 'Create account' link")
        check(FOOTER in dom.all_text, "footer missing on the console page")
        d = requests.get(admin + "/oidc/.well-known/openid-configuration", timeout=10).json()
        check(d["issuer"] == admin + "/oidc", f"admin issuer {d['issuer']}")
        # a Host that is not ADMIN_ENDPOINT's origin is the default tenant: no console there
        r = requests.get(
            admin + "/console", allow_redirects=False, timeout=10, headers={"Host": urlsplit(admin).hostname + ".other"}
        )
        check(
            r.status_code == 302 and r.headers["Location"].endswith("/unknown-session"),
            f"foreign Host on the admin port: {r.status_code} {r.headers.get('Location')}",
        )
        return "console welcome ok; foreign origin -> /unknown-session"

    def main(self):
        self.run("GET /api/status -> 204", self.t_status)
        self.run("discovery", self.t_discovery)
        if not self.disc:
            return self.summary()
        self.run("X-Forwarded-Proto handling", self.t_forwarded_proto)
        self.run("JWKS (ES384)", self.t_jwks)
        self.run("authorization code flow with PKCE", self.t_code_flow)
        if hasattr(self, "tokens"):
            self.run("userinfo", self.t_userinfo)
            self.run("SSO session + PKCE verifier mismatch", self.t_sso_and_pkce_mismatch)
            self.run("prompt=consent: refresh_token grant", self.t_refresh)
            self.run("wrong client secret", self.t_bad_secret)
            self.run("RP-initiated logout", self.t_end_session)
        self.run("unregistered redirect_uri -> invalid_redirect_uri", self.t_bad_redirect_uri)
        self.run("unknown client -> invalid_client", self.t_unknown_client)
        self.run("sign-in without interaction -> unknown session", self.t_unknown_session)
        if self.a.admin_base:
            self.run("admin console (tenant by origin)", self.t_admin)
        return self.summary()

    def summary(self):
        failed = [r for r in self.results if not r[0]]
        print(f"\n{len(self.results) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="core URL = the container's ENDPOINT, e.g. http://127.0.0.1:13001")
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--client-secret", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--app-url", default="http://localhost:3210", help="APP_URL given to the container")
    ap.add_argument("--admin-base", help="admin URL = ADMIN_ENDPOINT (enables the console checks)")
    ap.add_argument(
        "--expect-trust-proxy",
        action="store_true",
        help="fail unless endpoints follow X-Forwarded-Proto (container has TRUST_PROXY_HEADER=1)",
    )
    sys.exit(SelfTest(ap.parse_args()).main())


if __name__ == "__main__":
    main()
