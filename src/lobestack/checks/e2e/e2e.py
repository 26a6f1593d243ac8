"""The browser flows as checks: what a person does with the stack, in Chromium, through its Nginx and its TLS.
Each fails at the step where the flow stops, with the URL, what was expected, and the cause from the stack's own
evidence (lobestack.browser.diagnosis); a failed flow leaves a trace, a screenshot and its final URL in the report.

The subject is a BrowserSession (lobestack.browser.session): a browser launched for the target."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lobestack.browser import flows
from lobestack.checks.faults import EnvSet, Recreate, fault
from lobestack.checks.registry import Finding, Group
from lobestack.checks.stack.oidc import ADMIN_IS_ENDPOINT, CALLBACK_NOT_REGISTERED, NO_XFP
from lobestack.targets.target import CONSOLE_ADMIN, LOBECHAT_APP, TEST_USER, WRITES

GROUP = Group("E2E", layer="e2e", title="Browser flows", impact="breaks")

ISSUER_WITH_SLASH = EnvSet("AUTH_LOGTO_ISSUER", "https://auth.test/oidc/", ("lobe",))
LOBE_WITHOUT_CA = Recreate(
    "docker-compose.yml",
    "      OLLAMA_PROXY_URL: ${OLLAMA_PROXY_URL:-}\n      NODE_EXTRA_CA_CERTS: /etc/lobestack/extra-ca.pem\n",
    "      OLLAMA_PROXY_URL: ${OLLAMA_PROXY_URL:-}\n",
    ("lobe",),
)
WRONG_CLIENT_SECRET = EnvSet("AUTH_LOGTO_SECRET", "x" * 32, ("lobe",))
# The suite's own copy of the test user's password, changed: Logto keeps the real one.
WRONG_PASSWORD = EnvSet("LOBESTACK_TEST_PASSWORD", "not-the-test-users-password", ())
CORS_WITHOUT_SCHEME = Recreate(
    "docker-compose.yml",
    "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}",
    "MINIO_API_CORS_ALLOW_ORIGIN: lobe.test",
    ("minio", "minio-init"),
)


@GROUP.check(
    "E2E-SIGNIN",
    title="a signed-out visitor signs in to LobeChat through Logto in the browser: LobeChat's sign-in page → "
    "“Logto” → Logto's form (a wrong password refused, no session) → back on /chat, and /api/auth/session is "
    "the test user",
    fix="follow the cause: the Logto application's redirect URI and secret (AUTH_LOGTO_ID/SECRET), "
    "AUTH_LOGTO_ISSUER exactly as discovery says it, X-Forwarded-Proto on the auth vhost, ADMIN_ENDPOINT its own "
    "origin, and the CA in LobeChat's container (NODE_EXTRA_CA_CERTS)",
    faults=[
        fault(CALLBACK_NOT_REGISTERED, at=flows.CHOOSE_LOGTO, expect="oidc.invalid_redirect_uri"),
        fault(ADMIN_IS_ENDPOINT, at=flows.CHOOSE_LOGTO, expect="ADMIN_ENDPOINT 'https://auth.test' is the same origin"),
        fault(NO_XFP, at=flows.SUBMIT_CREDENTIALS, expect="does not send X-Forwarded-Proto"),
        fault(ISSUER_WITH_SLASH, at=flows.CHOOSE_LOGTO, expect="(a trailing slash)"),
        fault(LOBE_WITHOUT_CA, at=flows.CHOOSE_LOGTO, expect="the container does not trust the certificate"),
        fault(WRONG_CLIENT_SECRET, at=flows.SUBMIT_CREDENTIALS, expect="AUTH_LOGTO_SECRET is not the application's"),
        fault(WRONG_PASSWORD, at=flows.SUBMIT_CREDENTIALS, expect="Logto refused the credentials of the test user"),
    ],
    needs=[TEST_USER],
)
def sign_in(session: Any) -> Iterator[Finding]:
    result = session.run("E2E-SIGNIN", flows.sign_in, keep_session=True)
    if result.failure is not None:
        yield Finding(result.message())


@GROUP.check(
    "E2E-CONSOLE",
    title="https://<auth>/admin leads the browser to Logto's console on ADMIN_ENDPOINT: on a fresh stack its first "
    "run creates the administrator (/register, /register/password), else the administrator signs in; the browser "
    "lands in the console",
    fix="ADMIN_ENDPOINT must be the console's own origin (https://<auth>:8443), served by Logto's admin port, and "
    "the console vhost must keep the port in Host and X-Forwarded-Host ($http_host)",
    faults=[fault(ADMIN_IS_ENDPOINT, at=flows.OPEN_CONSOLE, expect="served by Logto's default tenant")],
    needs=[CONSOLE_ADMIN],
)
def console(session: Any) -> Iterator[Finding]:
    may_create = WRITES in session.capabilities
    result = session.run("E2E-CONSOLE", lambda flow: flows.console(flow, may_create=may_create))
    if result.failure is not None:
        yield Finding(result.message())


@GROUP.check(
    "E2E-UPLOAD",
    title="signed in, the browser uploads a file as LobeChat 1.x does: tRPC upload.createS3PreSignedUrl, a "
    "cross-origin PUT to S3_ENDPOINT, file.createFile, document.parseFileContent (the server reads it back "
    "through S3_ENDPOINT) and file.removeFile",
    fix="MINIO_API_CORS_ALLOW_ORIGIN = APP_URL's origin; S3_ENDPOINT reachable under its public name from the "
    "browser and from LobeChat's container, whose NODE_EXTRA_CA_CERTS must hold a private CA",
    faults=[
        fault(CORS_WITHOUT_SCHEME, at=flows.PUT_FILE, expect="the browser blocked the upload by CORS"),
        fault(LOBE_WITHOUT_CA, at=flows.PARSE_FILE, expect="UNABLE_TO_VERIFY_LEAF_SIGNATURE"),
    ],
    needs=[TEST_USER, WRITES, LOBECHAT_APP],
)
def upload(session: Any) -> Iterator[Finding]:
    signed_in = session.storage_state is not None

    def flow(run: flows.Flow) -> None:
        if not signed_in:
            flows.sign_in(run, refuse_wrong_password=False)
        flows.upload(run)

    result = session.run("E2E-UPLOAD", flow, signed_in=signed_in)
    if result.failure is not None:
        yield Finding(result.message())
