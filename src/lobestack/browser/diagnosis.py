"""Why a flow failed, from the evidence the stack gives: the browser's own error, Logto's error JSON on the page,
LobeChat's `[auth][error]` log lines during the flow (where the target can read its logs), the console's CORS
message, and a look at the issuer's discovery (what LobeChat's server fetched). Each function returns one
sentence that names the cause in the deployment's own terms (the env var, the vhost, the container)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from lobestack.deployment.model import Origin
from lobestack.probes.oidc import ENDPOINT_KEYS, OidcProbeError, discover, discovery_url

# Chromium's network errors a person would see, in words.
NET_ERRORS = {
    "ERR_CERT_AUTHORITY_INVALID": "its certificate is not issued by a CA the browser trusts",
    "ERR_CERT_COMMON_NAME_INVALID": "its certificate is not valid for that name",
    "ERR_CERT_DATE_INVALID": "its certificate has expired or is not valid yet",
    "ERR_CERT_INVALID": "its certificate is invalid",
    "ERR_NAME_NOT_RESOLVED": "the name does not resolve",
    "ERR_CONNECTION_REFUSED": "nothing accepts connections there",
    "ERR_CONNECTION_RESET": "the connection was reset",
    "ERR_CONNECTION_CLOSED": "the connection was closed without an answer",
    "ERR_TIMED_OUT": "the connection timed out",
    "ERR_SSL_PROTOCOL_ERROR": "the TLS handshake failed",
    "ERR_TOO_MANY_REDIRECTS": "it redirects in a loop",
    "ERR_NETWORK_CHANGED": "the host's network changed during the request (an interface came or went)",
}
# Node's TLS and socket error codes in LobeChat's log, in words.
NODE_ERRORS = {
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE": "the container does not trust the certificate (NODE_EXTRA_CA_CERTS)",
    "SELF_SIGNED_CERT_IN_CHAIN": "the container does not trust the certificate (NODE_EXTRA_CA_CERTS)",
    "DEPTH_ZERO_SELF_SIGNED_CERT": "the container does not trust the certificate (NODE_EXTRA_CA_CERTS)",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY": "the container does not trust the certificate (NODE_EXTRA_CA_CERTS)",
    "CERT_HAS_EXPIRED": "the certificate has expired",
    "ERR_TLS_CERT_ALTNAME_INVALID": "the certificate is not valid for that name",
    "ENOTFOUND": "the container cannot resolve the name (extra_hosts)",
    "EAI_AGAIN": "the container cannot resolve the name (extra_hosts)",
    "ECONNREFUSED": "nothing accepts the container's connection there",
    "ETIMEDOUT": "the container's connection timed out",
    "ECONNRESET": "the connection was reset",
}
_NET_CODE = re.compile(r"net::(ERR_[A-Z_]+)")
_NODE_CODE = re.compile(r"\b(" + "|".join(NODE_ERRORS) + r")\b")


def browser_error(failure: str, url: str) -> str:
    """A navigation the browser could not make (`net::ERR_…`), said as a person would understand it."""
    match = _NET_CODE.search(failure)
    host = urlsplit(url).netloc or url
    if not match:
        return f"the browser could not load {url}: {failure}"
    meaning = NET_ERRORS.get(match.group(1), "")
    return f"the browser refused {host}: {match.group(0)}" + (f" ({meaning})" if meaning else "")


# --- Logto ---------------------------------------------------------------------------------------------------------


def logto_error(body: dict[str, Any], deployment: Any, client_id: str) -> str:
    """The cause behind Logto's OIDC error JSON at /oidc/auth."""
    code = str(body.get("code") or body.get("error") or "?")
    said = f"Logto answered {code!r}: {body.get('message') or body.get('error_description') or ''}".rstrip(": ")
    app_url = deployment.app_env("APP_URL").rstrip("/")
    if code.endswith("invalid_redirect_uri"):
        return (
            f"{said}; LobeChat's callback {app_url}/api/auth/callback/logto is not a registered redirect URI of the "
            f"application {client_id!r} (add it in Logto: Applications → LobeChat → Redirect URIs)"
        )
    if code.endswith("invalid_client"):
        endpoint = deployment.auth_env("ENDPOINT") or deployment.env.get("LOGTO_ENDPOINT")
        admin = deployment.auth_env("ADMIN_ENDPOINT") or deployment.env.get("LOGTO_ADMIN_ENDPOINT")
        if endpoint and admin and Origin.of(endpoint) == Origin.of(admin):
            return (
                f"{said}; Logto's ADMIN_ENDPOINT {admin!r} is the same origin as its ENDPOINT, so the issuer is "
                "served by the admin tenant, which has no application for LobeChat (ADMIN_ENDPOINT must be its "
                "own origin, e.g. https://<auth>:8443)"
            )
        return f"{said}; Logto has no application {client_id!r} (AUTH_LOGTO_ID) on its default tenant"
    return said


# --- LobeChat's server side ----------------------------------------------------------------------------------------


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_COMPOSE_PREFIX = re.compile(r"^[\w.-]+-\d+\s+\| ?")


def clean_log(log: str) -> str:
    """A service log as the app printed it: without terminal colours and without Compose's `service-1 | ` prefix."""
    return "\n".join(_COMPOSE_PREFIX.sub("", _ANSI.sub("", line)) for line in log.splitlines())


def auth_error_lines(log: str) -> list[str]:
    """LobeChat's `[auth][error]` lines and what Auth.js printed with them (cause, details), in order, without the
    stack traces. `[auth][details]` is kept whole: Auth.js prints the token endpoint's challenge there, e.g.
    `"error": "invalid_client"` seven lines down (tests/data/lobechat-1.143.3, recorded from the real LobeChat)."""
    lines = clean_log(log).splitlines()
    found: list[str] = []
    for index, line in enumerate(lines):
        if "[auth][error]" in line or "[auth][cause]" in line or "[auth][details]" in line:
            found.append(line.strip())
            details = "[auth][details]" in line and line.rstrip().endswith("{")
            for follow in lines[index + 1 : index + (_DETAILS_LINES if details else 6)]:
                if follow.strip().startswith("at ") or "[auth]" in follow:
                    break
                if follow.strip():
                    found.append(follow.strip())
                if details and follow.rstrip() == "}":  # the end of the details' JSON
                    break
    return found


_DETAILS_LINES = 40  # at most this many lines of one [auth][details] JSON


def _issuer_facts(target: Any) -> tuple[str, dict[str, Any] | None, str]:
    """(AUTH_LOGTO_ISSUER, its discovery document or None, what went wrong fetching it)."""
    issuer = target.deployment.app_env("AUTH_LOGTO_ISSUER")
    try:
        return issuer, discover(target.http, issuer), ""
    except OidcProbeError as exc:
        return issuer, None, str(exc)


def lobechat_auth_error(code: str, target: Any, log: str | None, *, phase: str) -> str:
    """Why LobeChat's server answered `/next-auth/error?error=<code>`: from its `[auth][error]` lines during the flow
    (when the target can read them) and a look at the issuer's discovery. `phase` is `sign-in` (LobeChat fetching
    discovery before sending the browser to Logto) or `callback` (LobeChat redeeming the code at Logto)."""
    issuer, document, fetch_problem = _issuer_facts(target)
    lines = auth_error_lines(log or "")
    text = "\n".join(lines)
    evidence = f"; LobeChat's log: {' | '.join(lines[:3])[:600]}" if lines else ""
    if log is None:
        evidence = "; LobeChat's log is not readable from this target (look for [auth][error] in it)"
    elif not lines:
        evidence = "; no [auth][error] line in LobeChat's log during the flow"
    causes: list[str] = []

    node = _NODE_CODE.search(text)
    if "fetch failed" in text or node:
        where = issuer if phase == "sign-in" else "Logto's token endpoint"
        url = discovery_url(issuer) if phase == "sign-in" else str((document or {}).get("token_endpoint") or issuer)
        code = node.group(1) if node else _fetch_code_in(target, "lobe", url)
        meaning = f": {NODE_ERRORS[code]}" if code in NODE_ERRORS else ""
        code_text = f", {code}" if code else ""
        causes.append(
            f"LobeChat could not reach or did not trust {where} (TypeError: fetch failed{code_text}){meaning}"
        )
    if document is not None and document.get("issuer") != issuer:
        causes.append(
            f"{discovery_url(issuer)} says issuer {document.get('issuer')!r}, not AUTH_LOGTO_ISSUER {issuer!r}: "
            "Auth.js requires the exact string"
            + (" (a trailing slash)" if str(document.get("issuer")).rstrip("/") == issuer.rstrip("/") else "")
        )
    if document is not None:
        expected = Origin.of(issuer)
        for key in ENDPOINT_KEYS:
            url = document.get(key)
            if url and Origin.of(str(url)) != expected and key == "token_endpoint":
                causes.append(
                    f"Logto's discovery advertises {key} {url!r}, not on the issuer's origin {expected}: the auth "
                    "vhost does not send X-Forwarded-Proto, so LobeChat's token request goes to plain http and fails"
                )
    if "invalid_client" in text:
        causes.append(
            "Logto refused LobeChat's client authentication at the token endpoint (invalid_client): "
            "AUTH_LOGTO_SECRET is not the application's secret"
        )
    if "LobeNextAuthDbAdapter" in text:
        adapter = next((line for line in lines if "LobeNextAuthDbAdapter" in line), "")
        causes.append(
            f"LobeChat's adapter self-call to APP_URL/api/auth/adapter failed ({adapter[:160]}): the app vhost must "
            "keep Authorization"
        )
    if document is None and not causes:
        causes.append(f"LobeChat's issuer discovery does not answer: {fetch_problem}")
    if not causes:
        causes.append(f"Auth.js reports {code!r} (a server-side sign-in failure)")
    return "; ".join(causes) + evidence


def _fetch_code_in(target: Any, role: str, url: str) -> str:
    """What the app's own container gets fetching `url` (its node, its NODE_EXTRA_CA_CERTS): the error code, e.g.
    UNABLE_TO_VERIFY_LEAF_SIGNATURE, or "" (it works, or the target has no containers)."""
    from lobestack.probes import ProbeError
    from lobestack.probes.container_fetch import fetch_from
    from lobestack.targets.target import CONTAINERS

    service = getattr(target.deployment, role, None)
    if service is None or CONTAINERS not in target.capabilities:
        return ""
    try:
        (fetched,) = fetch_from(target, service.name, [url])
    except (ProbeError, ValueError):
        return ""
    return (fetched.error or "").split(" ", 1)[0]


# --- uploads -------------------------------------------------------------------------------------------------------


def upload_blocked(url: str, status: int, body: str, console: list[str], failed: list[tuple[str, str, str]]) -> str:
    """Why the browser's PUT to S3_ENDPOINT did not answer 200: CORS (from the console), the network, or S3."""
    host = urlsplit(url).netloc
    cors = [line for line in console if "CORS" in line and host in line]
    if status == 0 and cors:
        said = cors[-1].replace(url, url.split("?", 1)[0] + "?…")  # the signature says nothing to a reader
        return (
            f"the browser blocked the upload by CORS: {said[:500]} (MINIO_API_CORS_ALLOW_ORIGIN must be APP_URL's "
            "origin, with its scheme)"
        )
    network = [error for method, request_url, error in failed if urlsplit(request_url).netloc == host]
    if status == 0 and network:
        return browser_error(network[-1], url)
    if status == 0:
        return f"the browser's PUT to {host} failed without an HTTP answer (see pages.txt)"
    code = re.search(r"<Code>([^<]+)</Code>", body)
    return f"S3 answered {status}" + (f" {code.group(1)}" if code else "") + f" at {host}"


def parse_failed(answer: Any, target: Any, log: str | None, s3_endpoint: str) -> str:
    """Why `document.parseFileContent` failed. LobeChat answers 400 'File content is empty' for ANY failed read of
    the file back from S3_ENDPOINT; its log has the real error."""
    said = f"LobeChat answered {answer.describe()}"
    if answer.error != "File content is empty":
        return said
    said += f", LobeChat's answer to any failed read of the file back from S3_ENDPOINT {s3_endpoint}"
    if log is None:
        return said + "; its log (not readable from this target) has the cause"
    code = s3_error_code(log, answer.error, s3_endpoint)
    if code:
        return f"{said}: its log says {code}: {NODE_ERRORS[code]}"
    return f"{said}; nothing in its log names the cause"


def s3_error_code(log: str, message: str, s3_endpoint: str) -> str:
    """The Node error code (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE) of the S3 call behind LobeChat's failed tRPC
    procedure that answered `message`, from its log, or "": the first code in what `error_printed_with` returns
    that is not a name-resolution error for another host than S3_ENDPOINT's."""
    s3_host = urlsplit(s3_endpoint).hostname
    return next((code for code, host in _node_codes(error_printed_with(log, message)) if host in ("", s3_host)), "")


def error_printed_with(log: str, message: str) -> str:
    """The error LobeChat printed when a tRPC procedure failed with `message`: the error object with that message,
    then the one printed last before it. LobeChat 1.143.3 prints the S3 call's error (`console.error(e)` in
    FileService), then tRPC's onError prints `Error [TRPCError]: <message>`, both to stderr; its pino line `Error in
    tRPC handler … on path: …` goes to stdout, which Docker interleaves anywhere, so it is left out. Other errors of
    the same moments stay out too, e.g. the `getaddrinfo ENOTFOUND raw.githubusercontent.com` of the changelog fetch
    on a host without GitHub (tests/data/lobechat-1.143.3/upload-lobe-without-ca.log). Without that message in the
    log (another version), the whole log."""
    lines = [line for line in clean_log(log).splitlines() if not line.startswith('{"level":')]
    at = next((index for index in reversed(range(len(lines))) if message and message in lines[index]), None)
    if at is None:
        return "\n".join(lines)
    start = at - 1  # back to the line that opens the error printed before: column 0, not a closing brace
    while start > 0 and (not lines[start] or lines[start][0] in " \t}"):
        start -= 1
    end = at + 1  # on to the end of the message's own error
    while end < len(lines) and (not lines[end] or lines[end][0] in " \t}"):
        end += 1
    return "\n".join(lines[at:end] + lines[max(start, 0) : at])  # its own first: a cause it carries comes first


_NAMED_HOST = re.compile(r"(?:ENOTFOUND|EAI_AGAIN) ([\w.-]+)")


def _node_codes(text: str) -> Iterator[tuple[str, str]]:
    """(code, the host it names or "") of each Node error code in `text`, in order. A name-resolution error counts
    by its message, `getaddrinfo ENOTFOUND <host>`, which names the host (its `code: 'ENOTFOUND'` line does not)."""
    for match in _NODE_CODE.finditer(text):
        if match.group(1) not in ("ENOTFOUND", "EAI_AGAIN"):
            yield match.group(1), ""
        elif named := _NAMED_HOST.match(text, match.start()):
            yield match.group(1), named.group(1)
