"""The browser flows, step by step, as a person (and LobeChat's own client) goes through them. A step that does not
end where it should raises FlowFailure: which step, the URL the browser was on, what was expected, what was seen,
and why (diagnosis.py). Every wait is bounded and says what it waited for.

1. sign_in: LobeChat's sign-in page → "Logto" → Logto's sign-in page → (a wrong password is refused, and no
   session exists) → the test user's credentials → back on LobeChat's `/chat` → `/api/auth/session` is that user.
2. console: `https://<auth>/admin` → the console on ADMIN_ENDPOINT → its first run creates the administrator, or
   (one exists) the administrator signs in → in the console.
3. upload: from the signed-in app, LobeChat's tRPC calls and the browser's cross-origin PUT to S3_ENDPOINT, the
   server's read-back of the file, and its removal."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from lobestack.browser import diagnosis
from lobestack.browser.lobechat import LobeChat
from lobestack.browser.logto import Logto, origin_of
from lobestack.browser.recording import FlowRecorder, now_rfc3339

STEP_TIMEOUT_S = 20.0
LOG_WAIT_S = 5.0  # the longest wait for the app's log to show the error being diagnosed
LOG_POLL_S = 0.2

# Steps (their names appear in findings; a fault's `at` names one).
OPEN_SIGN_IN = "open LobeChat's sign-in page"
CHOOSE_LOGTO = "choose Logto"
WRONG_PASSWORD = "a wrong password is refused"
SUBMIT_CREDENTIALS = "sign in as the test user"
SESSION = "the session is the test user's"
SIGN_IN_STEPS = (OPEN_SIGN_IN, CHOOSE_LOGTO, WRONG_PASSWORD, SUBMIT_CREDENTIALS, SESSION)

OPEN_CONSOLE = "open the console from /admin"
CREATE_ADMIN = "create the first administrator"
SIGN_IN_ADMIN = "sign in as the administrator"
IN_CONSOLE = "land in the console"
CONSOLE_STEPS = (OPEN_CONSOLE, CREATE_ADMIN, SIGN_IN_ADMIN, IN_CONSOLE)

SIGNED_IN = "be signed in"
CHECK_HASH = "file.checkFileHash"
PRESIGN = "upload.createS3PreSignedUrl"
PUT_FILE = "PUT the file to S3_ENDPOINT"
CREATE_FILE = "file.createFile"
PARSE_FILE = "document.parseFileContent"
REMOVE_FILE = "file.removeFile"
UPLOAD_STEPS = (SIGNED_IN, CHECK_HASH, PRESIGN, PUT_FILE, CREATE_FILE, PARSE_FILE, REMOVE_FILE)


class FlowFailure(Exception):
    """A step did not end where it should. `str()`: step, URL, expected, seen, cause."""

    def __init__(self, expected: str, seen: str, cause: str = "") -> None:
        super().__init__(seen)
        self.expected, self.seen, self.cause = expected, seen, cause
        self.step = ""
        self.number = 0
        self.url = ""

    def __str__(self) -> str:
        text = f"step {self.number} “{self.step}” at {self.url or '(no page)'}: expected {self.expected}"
        text += f"; saw {self.seen}"
        return text + (f"; cause: {self.cause}" if self.cause else "")


class Flow:
    """One flow in its own browser context (a signed-out visitor unless given a session): its page, the page
    objects, the recorder, and the steps so far."""

    def __init__(self, session: Any, context: Any, page: Any, recorder: FlowRecorder) -> None:
        self.session = session
        self.target = session.target
        self.context = context
        self.page = page
        self.recorder = recorder
        self.started = now_rfc3339()
        self.logto = Logto(page)
        self.number = 0
        self.current = ""
        self.taken: list[str] = []  # the steps entered so far, in order
        self.timings: dict[str, float] = {}  # seconds each finished step took

    @property
    def deployment(self) -> Any:
        return self.target.deployment

    @functools.cached_property
    def lobe(self) -> LobeChat:
        return LobeChat(self.page, self.deployment.app_env("APP_URL") or self.deployment.env.get("APP_URL"))

    @property
    def issuer_origin(self) -> str:
        return origin_of(self.deployment.app_env("AUTH_LOGTO_ISSUER"))

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.number += 1
        self.current = name
        self.taken.append(name)
        started = time.monotonic()
        try:
            yield
            self.timings[name] = time.monotonic() - started
        except FlowFailure as failure:
            failure.step, failure.number, failure.url = name, self.number, self.page.url
            raise
        except Exception as exc:  # Playwright's own errors (a timeout, a crashed page): this step failed
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            failure = FlowFailure("the step to finish", f"{type(exc).__name__}: {first[:300]}")
            failure.step, failure.number, failure.url = name, self.number, self.page.url
            raise failure from None

    def until(self, conditions: dict[str, Callable[[], object]], timeout_s: float = STEP_TIMEOUT_S) -> str | None:
        """The first condition that holds (polled while the page works), or None after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            for label, condition in conditions.items():
                try:
                    if condition():
                        return label
                except Exception:  # the page is between documents
                    continue
            if time.monotonic() > deadline:
                return None
            self.page.wait_for_timeout(100)

    def log(self, role: str, *, until: str) -> str | None:
        """The log of LobeChat (`lobe`) or Logto (`logto`) since the flow started, where the target has logs: once
        it has `until` and then stopped growing, or as it is after LOG_WAIT_S. The app answers before Docker has
        copied what it printed: read at once, a log can lack the lines of the very error being diagnosed."""
        service = getattr(self.deployment, role, None)
        name = service.name if service else role
        deadline = time.monotonic() + LOG_WAIT_S
        log = self.target.service_log(name, self.started)
        while log is not None and time.monotonic() < deadline:
            time.sleep(LOG_POLL_S)
            again = self.target.service_log(name, self.started)
            if until in log and again == log:
                break
            log = again
        return log

    # --- evidence of where the browser landed ----------------------------------------------------------------------
    def browser_refused(self) -> str | None:
        """A navigation the browser itself refused (TLS, DNS, connect): Chromium's error page."""
        if not self.page.url.startswith("chrome-error://"):
            return None
        failed = [r for r in self.recorder.failed_requests if r[0] == "GET"]
        if not failed:
            return "the browser shows its own error page"
        return diagnosis.browser_error(failed[-1][2], failed[-1][1])

    def document_status(self) -> int:
        """HTTP status of the document the browser shows (its last main-frame navigation)."""
        if self.recorder.navigations and self.recorder.navigations[-1][1] == self.page.url:
            return self.recorder.navigations[-1][0]
        return 0

    def logto_error_page(self) -> bool:
        return origin_of(self.page.url) == self.issuer_origin and self.document_status() >= 400

    def lobechat_error(self, phase: str) -> FlowFailure | None:
        code = self.lobe.auth_error(self.page.url)
        if code is None:
            return None
        if code == "MissingCSRF":  # seen on LobeChat 1.143.3 when the button is clicked too early
            cause = "the sign-in was posted without its CSRF token: the click came before the page had fetched it"
        else:
            cause = diagnosis.lobechat_auth_error(code, self.target, self.log("lobe", until="[auth]["), phase=phase)
        return FlowFailure(
            "to reach Logto's sign-in page" if phase == "sign-in" else "to come back signed in to LobeChat's /chat",
            f"LobeChat's {urlsplit(self.page.url).path}?error={code}",
            cause,
        )

    def logto_failure(self, expected: str) -> FlowFailure:
        body = self.logto.error_json() or {}
        client_id = self.deployment.app_env("AUTH_LOGTO_ID")
        seen = f"Logto's error page ({self.document_status()}{', ' + str(body.get('code')) if body else ''})"
        cause = diagnosis.logto_error(body, self.deployment, client_id) if body else "Logto answered with an error"
        return FlowFailure(expected, seen, cause)


# --- 1. sign-in ----------------------------------------------------------------------------------------------------


def sign_in(flow: Flow, *, refuse_wrong_password: bool = True) -> None:
    user = flow.target.accounts().user
    lobe, logto, page = flow.lobe, flow.logto, flow.page

    with flow.step(OPEN_SIGN_IN):
        try:
            response = lobe.open_sign_in(STEP_TIMEOUT_S * 1000)
        except Exception as exc:
            refused = flow.browser_refused()
            if refused:
                raise FlowFailure("LobeChat's sign-in page", "no page", refused) from None
            raise FlowFailure("LobeChat's sign-in page", str(exc).splitlines()[0][:300]) from None
        if response is None or response.status >= 400:
            raise FlowFailure("LobeChat's sign-in page (200)", f"HTTP {response.status if response else '?'}")
        if flow.until({"button": lambda: lobe.logto_button().is_visible()}, 10) is None:
            raise FlowFailure("a “Logto” button", "none on the page", "NEXT_AUTH_SSO_PROVIDERS must contain logto")

    with flow.step(CHOOSE_LOGTO):
        lobe.logto_button().click()
        landed = flow.until(
            {
                "sign-in": logto.shows_sign_in,
                "app error": lambda: lobe.auth_error(page.url),
                "logto error": flow.logto_error_page,
                "browser error": flow.browser_refused,
                "unknown session": logto.on_unknown_session,
            }
        )
        expected = f"Logto's sign-in page on {flow.issuer_origin}"
        if landed == "app error":
            raise flow.lobechat_error("sign-in")
        if landed == "logto error":
            raise flow.logto_failure(expected)
        if landed == "browser error":
            raise FlowFailure(expected, "the browser's error page", flow.browser_refused() or "")
        if landed == "unknown session":
            raise FlowFailure(expected, "Logto's “unknown session” page", "Logto lost the sign-in interaction")
        if landed is None:
            raise FlowFailure(expected, f"nothing usable after {STEP_TIMEOUT_S:.0f} s")
        if origin_of(page.url) != flow.issuer_origin:
            raise FlowFailure(expected, f"a sign-in form on {origin_of(page.url)}")

    if refuse_wrong_password:
        with flow.step(WRONG_PASSWORD):
            wrong = "wrong-" + secrets.token_urlsafe(12)
            flow.session.typed(wrong)
            with flow.recorder.unrecorded():
                logto.sign_in(user.username, wrong)
                refused = flow.until(
                    {
                        "alert": lambda: logto.alert() and logto.shows_sign_in(),
                        "left": lambda: not logto.shows_sign_in(),
                    }
                )
            if refused != "alert":
                raise FlowFailure(
                    "Logto to refuse a wrong password with its message in [role=alert]",
                    f"{page.url}" if refused == "left" else "no message",
                    "Logto let a wrong password through" if lobe.owns(page.url) else "",
                )
            status, body = _session_elsewhere(flow)
            if isinstance(body, dict) and body.get("user"):
                raise FlowFailure("no session after a refused password", f"a session for {body['user']!r}")

    with flow.step(SUBMIT_CREDENTIALS):
        flow.session.typed(user.password)
        with flow.recorder.unrecorded():
            logto.sign_in(user.username, user.password)
            landed = flow.until(
                {
                    "chat": lambda: lobe.on_chat(page.url),
                    "app error": lambda: lobe.auth_error(page.url),
                    "alert": lambda: logto.shows_sign_in() and logto.alert(),
                    "logto error": flow.logto_error_page,
                    "browser error": flow.browser_refused,
                }
            )
        expected = f"LobeChat's /chat on {lobe.origin}"
        if landed == "alert":
            raise FlowFailure(
                expected,
                f"Logto's message “{logto.alert()}”",
                f"Logto refused the credentials of the test user {user.username!r}: wrong username or password",
            )
        if landed == "app error":
            raise flow.lobechat_error("callback")
        if landed == "logto error":
            raise flow.logto_failure(expected)
        if landed == "browser error":
            raise FlowFailure(expected, "the browser's error page", flow.browser_refused() or "")
        if landed is None:
            raise FlowFailure(expected, f"nothing after {STEP_TIMEOUT_S:.0f} s")

    with flow.step(SESSION):
        status, body = lobe.session()
        found = body.get("user") if isinstance(body, dict) else None
        if status != 200 or not isinstance(found, dict) or not found.get("id"):
            raise FlowFailure(
                "/api/auth/session to return the test user", f"{status} {json.dumps(body)[:200]}", "no session"
            )
        names = {str(found.get(k) or "").lower() for k in ("name", "email", "username")}
        if not any(user.username.lower() in n for n in names if n):
            raise FlowFailure(f"the session of {user.username!r}", f"the session of {found.get('name')!r}")


def _session_elsewhere(flow: Flow) -> tuple[int, Any]:
    """LobeChat's /api/auth/session in a second tab of the same browser (the first stays on Logto's form)."""
    other = flow.context.new_page()
    try:
        response = other.goto(f"{flow.lobe.app_url}/api/auth/session", timeout=STEP_TIMEOUT_S * 1000)
        text = other.locator("body").inner_text(timeout=5000)
        try:
            return (response.status if response else 0), json.loads(text or "null")
        except json.JSONDecodeError:
            return (response.status if response else 0), text[:200]
    finally:
        other.close()


# --- 2. the admin console ------------------------------------------------------------------------------------------


def console(flow: Flow, *, may_create: bool) -> None:
    admin = flow.target.accounts().admin
    logto, page = flow.logto, flow.page
    env = flow.deployment.env
    endpoint = env.get("LOGTO_ENDPOINT") or flow.deployment.auth_env("ENDPOINT")
    admin_endpoint = env.get("LOGTO_ADMIN_ENDPOINT") or flow.deployment.auth_env("ADMIN_ENDPOINT")
    admin_origin = origin_of(admin_endpoint)
    expected = f"the console on ADMIN_ENDPOINT {admin_origin} (its first run or its sign-in)"

    with flow.step(OPEN_CONSOLE):
        try:
            page.goto(f"{endpoint.rstrip('/')}/admin", wait_until="load", timeout=STEP_TIMEOUT_S * 1000)
        except Exception as exc:
            refused = flow.browser_refused()
            raise FlowFailure(expected, "no page", refused or str(exc).splitlines()[0][:300]) from None
        landed = flow.until(
            {
                "first run": logto.shows_welcome,
                "register": logto.shows_register,
                "sign-in": logto.shows_sign_in,
                "console": lambda: logto.in_console(admin_origin),
                "unknown session": logto.on_unknown_session,
                "browser error": flow.browser_refused,
            }
        )
        if landed == "unknown session":
            raise FlowFailure(expected, "Logto's “unknown session” page", _console_tenant(flow, admin_endpoint))
        if landed == "browser error":
            raise FlowFailure(expected, "the browser's error page", flow.browser_refused() or "")
        if landed is None:
            blank = "" if page.locator("body").inner_text(timeout=2000).strip() else " (a blank page)"
            raise FlowFailure(
                expected,
                f"nothing usable after {STEP_TIMEOUT_S:.0f} s{blank}",
                _default_tenant_cause(flow, admin_endpoint) or "",
            )
        if origin_of(page.url) != admin_origin:
            raise FlowFailure(expected, f"a {landed} page on {origin_of(page.url)}")

    if landed in ("first run", "register"):
        with flow.step(CREATE_ADMIN):
            if not may_create:
                raise FlowFailure(
                    "an administrator to exist already",
                    "the console's first run (“Create account”)",
                    f"no administrator exists: anyone who reaches {admin_origin} can create one; create it now "
                    "(or let the flow: --allow-writes)",
                )
            if landed == "first run":
                logto.create_account().first.click()
                if flow.until({"register": logto.shows_register}) is None:
                    raise FlowFailure("the account form (/register)", "no identifier field")
            logto.register(admin.username)
            if flow.until({"password": logto.shows_new_password, "alert": logto.alert}) != "password":
                raise FlowFailure("the password form (/register/password)", logto.alert() or "no newPassword field")
            flow.session.typed(admin.password)
            with flow.recorder.unrecorded():
                logto.set_password(admin.password)
                done = flow.until(
                    {"console": lambda: logto.in_console(admin_origin), "alert": logto.alert}, STEP_TIMEOUT_S
                )
            if done != "console":
                said = logto.alert()
                raise FlowFailure(
                    "to land in the console as the new administrator",
                    f"Logto's message “{said}”" if said else f"no console after {STEP_TIMEOUT_S:.0f} s",
                    "offline, real Logto's password step fails while its breached-password check cannot reach "
                    "api.pwnedpasswords.com"
                    if not said
                    else "",
                )
    elif landed == "sign-in":
        with flow.step(SIGN_IN_ADMIN):
            flow.session.typed(admin.password)
            with flow.recorder.unrecorded():
                logto.sign_in(admin.username, admin.password)
                done = flow.until({"console": lambda: logto.in_console(admin_origin), "alert": lambda: logto.alert()})
            if done != "console":
                raise FlowFailure(
                    "to land in the console",
                    f"Logto's message “{logto.alert()}”" if done == "alert" else "no console",
                    f"Logto refused the administrator {admin.username!r}: wrong username or password"
                    if done == "alert"
                    else "",
                )

    with flow.step(IN_CONSOLE):
        if not logto.in_console(admin_origin):
            raise FlowFailure(f"the console under {admin_origin}/console", urlsplit(page.url).path or page.url)


def _console_tenant(flow: Flow, admin_endpoint: str) -> str:
    """Which tenant answers the console origin, from its discovery (the admin tenant's issuer is ADMIN_ENDPOINT)."""
    from lobestack.probes.oidc import OidcProbeError, discover

    expected_issuer = f"{admin_endpoint.rstrip('/')}/oidc"
    try:
        discover(flow.target.http, expected_issuer)
    except OidcProbeError as exc:
        return f"the console origin's discovery does not answer: {exc}"
    return _default_tenant_cause(flow, admin_endpoint) or (
        "the console origin is Logto's admin tenant, yet it has no sign-in session for the console"
    )


def _default_tenant_cause(flow: Flow, admin_endpoint: str) -> str | None:
    """Why the console origin is served by Logto's default tenant, when its discovery says so; None otherwise."""
    from lobestack.probes.oidc import OidcProbeError, discover

    expected_issuer = f"{admin_endpoint.rstrip('/')}/oidc"
    try:
        issuer = discover(flow.target.http, expected_issuer).get("issuer")
    except OidcProbeError:
        return None
    if issuer == expected_issuer:
        return None
    configured = flow.deployment.auth_env("ADMIN_ENDPOINT")
    endpoint = flow.deployment.auth_env("ENDPOINT")
    cause = (
        f"the console origin {origin_of(admin_endpoint)} is served by Logto's default tenant (its discovery says "
        f"issuer {issuer!r}, not {expected_issuer!r})"
    )
    if configured and endpoint and origin_of(configured) == origin_of(endpoint):
        return cause + f": Logto's ADMIN_ENDPOINT is {configured!r}, the same origin as ENDPOINT"
    if configured and origin_of(configured) != origin_of(admin_endpoint):
        return cause + f": Logto's ADMIN_ENDPOINT is {configured!r}"
    return cause + ": the console vhost must keep the port in Host and X-Forwarded-Host ($http_host)"


# --- 3. upload -----------------------------------------------------------------------------------------------------


def upload(flow: Flow) -> None:
    lobe, page = flow.lobe, flow.page
    deployment = flow.deployment
    s3_endpoint = deployment.app_env("S3_ENDPOINT").rstrip("/")

    with flow.step(SIGNED_IN):
        page.goto(f"{lobe.app_url}/chat", wait_until="load", timeout=STEP_TIMEOUT_S * 1000)
        status, body = lobe.session()
        if not (isinstance(body, dict) and body.get("user")):
            raise FlowFailure("a signed-in session (from E2E-SIGNIN or a sign-in now)", f"{status} {body!r}"[:200])

    # As LobeChat's uploadWithProgress: hash, hash check, presigned URL, PUT, createFile; then the chat's parse.
    content = f"lobestack e2e upload {uuid.uuid4()}\nsecond line\n"
    digest = hashlib.sha256(content.encode()).hexdigest()
    date = f"{time.time() / 3600:.0f}"
    filename = f"{uuid.uuid4()}.txt"
    pathname = f"files/{date}/{filename}"
    file_id = ""
    try:
        with flow.step(CHECK_HASH):
            answer = lobe.mutate("file.checkFileHash", {"hash": digest})
            if not answer.ok or not isinstance(answer.data, dict) or answer.data.get("isExist") is not False:
                raise FlowFailure("{isExist: false} for new content", answer.describe())

        with flow.step(PRESIGN):
            answer = lobe.mutate("upload.createS3PreSignedUrl", {"pathname": pathname})
            url = answer.data if answer.ok and isinstance(answer.data, str) else ""
            if not url:
                raise FlowFailure("a presigned PUT URL", answer.describe())
            if origin_of(url) != origin_of(s3_endpoint):
                raise FlowFailure(
                    f"a URL on S3_ENDPOINT {origin_of(s3_endpoint)}",
                    f"a URL on {origin_of(url)}",
                    "LobeChat signs uploads for S3_ENDPOINT: the browser must reach it under that name",
                )

        with flow.step(PUT_FILE):
            console_before = len(flow.recorder.console)
            status, body = lobe.put_file(url, content, "text/plain")
            if status != 200:
                raise FlowFailure(
                    f"200 from {origin_of(url)}",
                    f"{status or 'no answer'}",
                    diagnosis.upload_blocked(
                        url, status, body, flow.recorder.console[console_before:], flow.recorder.failed_requests
                    ),
                )

        with flow.step(CREATE_FILE):
            metadata = {"date": date, "dirname": f"files/{date}", "filename": filename, "path": pathname}
            answer = lobe.mutate(
                "file.createFile",
                {
                    "fileType": "text/plain",
                    "hash": digest,
                    "metadata": metadata,
                    "name": "lobestack-e2e.txt",
                    "size": len(content.encode()),
                    "url": pathname,
                },
            )
            if not answer.ok or not isinstance(answer.data, dict) or not answer.data.get("id"):
                raise FlowFailure("{id, url} of the new file", answer.describe())
            file_id = answer.data["id"]

        with flow.step(PARSE_FILE):
            answer = lobe.mutate("document.parseFileContent", {"id": file_id})
            if not answer.ok:
                raise FlowFailure(
                    "the file's text, read back by the server",
                    answer.describe(),
                    diagnosis.parse_failed(answer, flow.target, flow.log("lobe", until=answer.error), s3_endpoint),
                )
            if not isinstance(answer.data, dict) or answer.data.get("content") != content:
                seen = answer.data.get("content") if isinstance(answer.data, dict) else answer.data
                raise FlowFailure("the file's text, read back by the server", f"{str(seen)[:120]!r}")

        with flow.step(REMOVE_FILE):
            answer = lobe.mutate("file.removeFile", {"id": file_id})
            file_id = ""
            if not answer.ok:
                raise FlowFailure("the file removed", answer.describe(), _removal_cause(flow, answer))
    finally:
        if file_id:  # a later step failed: remove what this flow created, as LobeChat's UI would
            with contextlib.suppress(Exception):
                lobe.mutate("file.removeFile", {"id": file_id})


def _removal_cause(flow: Flow, answer: Any) -> str:
    s3_endpoint = flow.deployment.app_env("S3_ENDPOINT")
    code = diagnosis.s3_error_code(flow.log("lobe", until=answer.error) or "", answer.error, s3_endpoint)
    return f"deleting the object through S3_ENDPOINT failed: {code} ({diagnosis.NODE_ERRORS[code]})" if code else ""
