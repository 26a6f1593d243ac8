"""Logto through its own public interfaces, as Logto 1.37.1 serves them behind the deployment's Nginx:

- the console's first run and the admin's sign-in: an authorization request for the `admin-console` client at
  ADMIN_ENDPOINT/oidc, then the experience API (`/api/experience…`), as the console's pages do;
- a Management API token: the admin's refresh token exchanged for the resource https://default.logto.app/api
  with scope `all`, or `client_credentials` of a machine-to-machine application;
- the Management API at ENDPOINT/api.

Every Logto endpoint lobestack calls is declared once in ENDPOINTS (its live checks' too); the stand-in must serve
each (tests/standins/test_logto.py proves it)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

from lobestack.probes import ProbeError
from lobestack.probes.http import HttpProbe, Response
from lobestack.provision.session import RedirectError, WebSession

MANAGEMENT_API = "https://default.logto.app/api"  # getManagementApiResourceIndicator('default')
ALL_SCOPE = "all"
ADMIN_CONSOLE = "admin-console"
M2M_ROLE = "Logto Management API access"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # with {placeholders}
    tenant: str  # "default" (ENDPOINT), "admin" (ADMIN_ENDPOINT) or "both"
    why: str


# Every Logto endpoint lobestack calls: provisioning, and the live checks.
ENDPOINTS: dict[str, Endpoint] = {
    e.why: e
    for e in (
        Endpoint("GET", "/", "admin", "console first run"),
        Endpoint("GET", "/api/status", "both", "health"),
        Endpoint("GET", "/api/swagger.json", "default", "the API document (its info.version: VERSION-PINNED)"),
        Endpoint("GET", "/oidc/.well-known/openid-configuration", "both", "discovery"),
        Endpoint("GET", "/oidc/jwks", "both", "jwks"),
        Endpoint("GET", "/oidc/auth", "both", "authorize"),
        Endpoint("POST", "/oidc/token", "both", "token"),
        Endpoint("PUT", "/api/experience", "both", "experience start"),
        Endpoint("POST", "/api/experience/profile", "both", "experience profile"),
        Endpoint("POST", "/api/experience/verification/password", "both", "experience password"),
        Endpoint("POST", "/api/experience/identification", "both", "experience identification"),
        Endpoint("POST", "/api/experience/submit", "both", "experience submit"),
        Endpoint("GET", "/api/applications", "default", "list applications"),
        Endpoint("POST", "/api/applications", "default", "create application"),
        Endpoint("GET", "/api/applications/{id}", "default", "get application"),
        Endpoint("PATCH", "/api/applications/{id}", "default", "update application"),
        Endpoint("GET", "/api/applications/{id}/secrets", "default", "application secrets"),
        Endpoint("POST", "/api/applications/{id}/secrets", "default", "create application secret"),
        Endpoint("GET", "/api/applications/{id}/roles", "default", "application roles"),
        Endpoint("POST", "/api/applications/{id}/roles", "default", "assign application roles"),
        Endpoint("GET", "/api/roles", "default", "list roles"),
        Endpoint("GET", "/api/users", "default", "list users"),
        Endpoint("POST", "/api/users", "default", "create user"),
        Endpoint("GET", "/api/sign-in-exp", "default", "sign-in experience"),
        Endpoint("PATCH", "/api/sign-in-exp", "default", "update sign-in experience"),
    )
}


class LogtoError(Exception):
    """Logto answered, and not as hoped: the request, the status, Logto's error code and message."""

    def __init__(self, what: str, response: Response) -> None:
        self.status = response.status
        body: Any
        try:
            body = json.loads(response.body)
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        self.code = str(body.get("code") or body.get("error") or "")
        self.message = str(body.get("message") or body.get("error_description") or response.text[:160].strip())
        self.data = body.get("data")
        shown = f"{self.code}: {self.message}" if self.code else self.message
        super().__init__(f"{what}: {response.status} {shown}".rstrip(": "))


class LogtoUnreachable(Exception):
    """No HTTP answer (DNS, connect, TLS, timeout)."""


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _json(response: Response) -> Any:
    if not response.body:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    id_token: str | None
    raw: dict[str, Any]


class Logto:
    """One Logto deployment: its core origin (ENDPOINT) and its console origin (ADMIN_ENDPOINT)."""

    def __init__(self, probe: HttpProbe, endpoint: str, admin_endpoint: str) -> None:
        self.probe = probe
        self.endpoint = endpoint.rstrip("/")
        self.admin_endpoint = admin_endpoint.rstrip("/")

    # --- plumbing -------------------------------------------------------------------------------------------------
    def _send(self, session: WebSession | None, method: str, url: str, **kwargs: Any) -> Response:
        try:
            if session is not None:
                return session.request(method, url, **kwargs)
            return self.probe.request(method, url, **kwargs)
        except ProbeError as exc:
            raise LogtoUnreachable(f"{method} {url.split('?', 1)[0]}: {exc}") from None

    def _token(self, origin: str, form: dict[str, str], basic: tuple[str, str] | None = None) -> Tokens:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if basic is not None:
            pair = f"{quote(basic[0], safe='')}:{quote(basic[1], safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        url = f"{origin}/oidc/token"
        response = self._send(None, "POST", url, headers=headers, body=urlencode(form).encode())
        data = _json(response)
        if response.status != 200 or not isinstance(data, dict) or "access_token" not in data:
            raise LogtoError(f"POST {url} ({form.get('grant_type')})", response)
        return Tokens(data["access_token"], data.get("refresh_token"), data.get("id_token"), data)

    # --- the console's first run ----------------------------------------------------------------------------------
    def first_admin_exists(self) -> bool:
        """`GET ADMIN_ENDPOINT/` redirects to /console once an admin exists, to /console/welcome before."""
        url = f"{self.admin_endpoint}/"
        response = self._send(None, "GET", url)
        location = urlsplit(response.header("location") or "").path
        if response.status in (301, 302, 303, 307, 308) and location in ("/console", "/console/welcome"):
            return location == "/console"
        raise LogtoError(f"GET {url} (expected a redirect to /console or /console/welcome)", response)

    # --- sign-in and registration through the experience API ------------------------------------------------------
    def authorize(
        self,
        origin: str,
        client_id: str,
        redirect_uri: str,
        username: str,
        password: str,
        *,
        scope: str,
        register: bool = False,
        resource: str | None = None,
        prompt: str | None = None,
    ) -> tuple[str, str]:
        """An authorization code flow with PKCE whose sign-in (or registration) goes through the experience API, as
        Logto's own pages drive it. Returns (code, code_verifier)."""
        session = WebSession(self.probe)
        verifier, challenge = _pkce()
        state = secrets.token_urlsafe(12)
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if resource:
            params["resource"] = resource
        if prompt:
            params["prompt"] = prompt
        if register:
            params["first_screen"] = "register"
        url = f"{origin}/oidc/auth?{urlencode(params, quote_via=quote)}"
        started = self._send(session, "GET", url)
        if started.status not in (302, 303) or "error=" in (started.header("location") or ""):
            raise LogtoError(f"GET {origin}/oidc/auth (client {client_id})", started)

        def call(method: str, path: str, body: Any, ok: tuple[int, ...]) -> Any:
            response = self._send(session, method, f"{origin}{path}", json_body=body)
            if response.status not in ok:
                raise LogtoError(f"{method} {origin}{path}", response)
            return _json(response)

        if register:
            call("PUT", "/api/experience", {"interactionEvent": "Register"}, (204,))
            call("POST", "/api/experience/profile", {"type": "username", "value": username}, (204,))
            call("POST", "/api/experience/profile", {"type": "password", "value": password}, (204,))
            call("POST", "/api/experience/identification", {}, (201,))
        else:
            call("PUT", "/api/experience", {"interactionEvent": "SignIn"}, (204,))
            verified = call(
                "POST",
                "/api/experience/verification/password",
                {"identifier": {"type": "username", "value": username}, "password": password},
                (200,),
            )
            call("POST", "/api/experience/identification", {"verificationId": verified["verificationId"]}, (204,))
        submitted = call("POST", "/api/experience/submit", None, (200,))
        try:
            landing = session.follow(urljoin(origin, submitted["redirectTo"]), until=redirect_uri)
        except RedirectError as exc:
            if exc.response is not None:
                raise LogtoError(f"after sign-in, GET {exc.url.split('?', 1)[0]}", exc.response) from None
            raise LogtoUnreachable(str(exc)) from None
        query = {k: v[0] for k, v in parse_qs(urlsplit(landing).query).items()}
        if "code" not in query or query.get("state") != state:
            raise LogtoUnreachable(f"the sign-in ended on {landing.split('?', 1)[0]} without a code: {query}")
        return query["code"], verifier

    def register_first_admin(self, username: str, password: str) -> None:
        """The console's first run: register the first admin through the admin tenant's experience API."""
        self.authorize(
            self.admin_endpoint,
            ADMIN_CONSOLE,
            f"{self.admin_endpoint}/console/callback",
            username,
            password,
            scope="openid offline_access profile",
            register=True,
            prompt="consent",
        )

    def admin_token(self, username: str, password: str) -> str:
        """The console admin's Management API token: sign in to `admin-console` (code + PKCE), then exchange the
        refresh token for the resource https://default.logto.app/api with scope `all` (a JWT)."""
        redirect_uri = f"{self.admin_endpoint}/console/callback"
        code, verifier = self.authorize(
            self.admin_endpoint,
            ADMIN_CONSOLE,
            redirect_uri,
            username,
            password,
            scope=f"openid offline_access profile {ALL_SCOPE}",
            resource=MANAGEMENT_API,
            prompt="consent",
        )
        tokens = self._token(
            self.admin_endpoint,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
                "client_id": ADMIN_CONSOLE,
            },
        )
        if not tokens.refresh_token:
            raise LogtoUnreachable("the admin-console sign-in gave no refresh token (offline_access was not granted)")
        return self._token(
            self.admin_endpoint,
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token,
                "client_id": ADMIN_CONSOLE,
                "resource": MANAGEMENT_API,
                "scope": ALL_SCOPE,
            },
        ).access_token

    def machine_token(self, app_id: str, app_secret: str) -> str:
        """`client_credentials` of a machine-to-machine application, for the Management API."""
        form = {"grant_type": "client_credentials", "resource": MANAGEMENT_API, "scope": ALL_SCOPE}
        return self._token(self.endpoint, form, basic=(app_id, app_secret)).access_token

    def code_flow(
        self, client_id: str, client_secret: str, redirect_uri: str, username: str, password: str, scope: str
    ) -> Tokens:
        """A relying party's sign-in at ENDPOINT (LobeChat's client, a user of the default tenant): tokens."""
        code, verifier = self.authorize(self.endpoint, client_id, redirect_uri, username, password, scope=scope)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        return self._token(self.endpoint, form, basic=(client_id, client_secret))

    def management(self, token: str) -> ManagementApi:
        return ManagementApi(self, token)


class ManagementApi:
    """Logto's Management API at ENDPOINT/api with a bearer token."""

    def __init__(self, logto: Logto, token: str) -> None:
        self.logto = logto
        self.token = token

    def call(self, why: str, body: Any = None, query: dict[str, Any] | None = None, **params: str) -> Any:
        endpoint = ENDPOINTS[why]
        path = endpoint.path.format(**{k: quote(v, safe="") for k, v in params.items()})
        url = f"{self.logto.endpoint}{path}"
        if query:
            url += "?" + urlencode(query, doseq=True)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        response = self.logto._send(None, endpoint.method, url, headers=headers, body=data)
        if response.status >= 400:
            raise LogtoError(f"{endpoint.method} {url.split('?', 1)[0]}", response)
        return _json(response)

    # Named calls (see ENDPOINTS)
    def applications(self, app_type: str) -> list[dict[str, Any]]:
        return self.call("list applications", query={"types": app_type})

    def create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("create application", body)

    def application(self, app_id: str) -> dict[str, Any]:
        return self.call("get application", id=app_id)

    def update_application(self, app_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("update application", body, id=app_id)

    def secrets(self, app_id: str) -> list[dict[str, Any]]:
        return self.call("application secrets", id=app_id)

    def create_secret(self, app_id: str, name: str) -> dict[str, Any]:
        return self.call("create application secret", {"name": name}, id=app_id)

    def application_roles(self, app_id: str) -> list[dict[str, Any]]:
        return self.call("application roles", query={"page_size": 100}, id=app_id)

    def assign_roles(self, app_id: str, role_ids: list[str]) -> None:
        self.call("assign application roles", {"roleIds": role_ids}, id=app_id)

    def roles(self, role_type: str) -> list[dict[str, Any]]:
        return self.call("list roles", query={"type": role_type, "page_size": 100})

    def users_named(self, username: str) -> list[dict[str, Any]]:
        return self.call("list users", query={"search.username": username, "mode.username": "exact"})

    def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("create user", body)

    def sign_in_experience(self) -> dict[str, Any]:
        return self.call("sign-in experience")

    def update_sign_in_experience(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("update sign-in experience", body)
