"""The diagnosis reads the stack's evidence as it comes: Logto's error JSON, LobeChat's `[auth][error]` lines,
Chromium's network errors and CORS messages, tRPC batch answers."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from lobestack.browser import diagnosis, flows
from lobestack.browser.lobechat import parse_batch
from lobestack.deployment import load_deployment
from lobestack.probes.http import Response
from lobestack.render.ephemeral import render_ephemeral


def test_logto_errors_name_the_registration_and_the_tenant(tmp_path) -> None:
    render_ephemeral(tmp_path / "deploy")
    deployment = load_deployment(tmp_path / "deploy")
    redirect = diagnosis.logto_error({"code": "oidc.invalid_redirect_uri", "message": "…"}, deployment, "abc")
    assert "https://lobe.test/api/auth/callback/logto is not a registered redirect URI of the application 'abc'" in (
        redirect
    )
    client = diagnosis.logto_error({"code": "oidc.invalid_client", "message": "…"}, deployment, "abc")
    assert "no application 'abc' (AUTH_LOGTO_ID)" in client
    compose = (tmp_path / "deploy" / "docker-compose.yml").read_text()
    (tmp_path / "deploy" / "docker-compose.yml").write_text(
        compose.replace(
            "ADMIN_ENDPOINT: ${LOGTO_ADMIN_ENDPOINT:?set LOGTO_ADMIN_ENDPOINT in .env}",
            "ADMIN_ENDPOINT: ${LOGTO_ENDPOINT}",
        )
    )
    shadowed = diagnosis.logto_error({"code": "oidc.invalid_client"}, load_deployment(tmp_path / "deploy"), "abc")
    assert "ADMIN_ENDPOINT 'https://auth.test' is the same origin as its ENDPOINT" in shadowed


def test_auth_error_lines_keep_what_auth_js_printed_with_them() -> None:
    log = "\n".join(
        [
            "✅ database migration pass.",
            "[auth][error] TypeError: fetch failed",
            "    at node:internal/deps/undici/undici:13510:13",
            "[auth][cause]: Error: unable to verify the first certificate",
            "  code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'",
            "    at TLSSocket.onConnectSecure (node:_tls_wrap:1679:34)",
            "GET /chat 200",
        ]
    )
    assert diagnosis.auth_error_lines(log) == [
        "[auth][error] TypeError: fetch failed",
        "[auth][cause]: Error: unable to verify the first certificate",
        "code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'",
    ]


def test_browser_errors_in_words() -> None:
    said = diagnosis.browser_error("net::ERR_CERT_AUTHORITY_INVALID", "https://auth.test/oidc/auth?x=1")
    assert said == (
        "the browser refused auth.test: net::ERR_CERT_AUTHORITY_INVALID (its certificate is not issued by a CA the "
        "browser trusts)"
    )


def test_a_cors_refusal_is_reported_as_cors_never_as_a_timeout() -> None:
    url = "https://s3.test/lobe/files/1/a.txt?X-Amz-Signature=x"
    console = [
        "error: Access to XMLHttpRequest at 'https://s3.test/lobe/files/1/a.txt?X-Amz-Signature=x' from origin "
        "'https://lobe.test' has been blocked by CORS policy: Response to preflight request doesn't pass access "
        "control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
    ]
    failed = [("PUT", url, "net::ERR_FAILED")]
    said = diagnosis.upload_blocked(url, 0, "", console, failed)
    assert said.startswith(
        "the browser blocked the upload by CORS: error: Access to XMLHttpRequest at 'https://s3.test/lobe/files/1/"
        "a.txt?…' from origin 'https://lobe.test' has been blocked by CORS policy"
    )
    assert "MINIO_API_CORS_ALLOW_ORIGIN" in said
    assert diagnosis.upload_blocked(url, 403, "<Error><Code>SignatureDoesNotMatch</Code></Error>", [], []) == (
        "S3 answered 403 SignatureDoesNotMatch at s3.test"
    )


def test_trpc_batches_as_lobechat_answers_them() -> None:
    ok = parse_batch(200, '[{"result":{"data":{"json":{"id":"file_abc","url":"https://s3.test/lobe/x"}}}}]')
    assert ok.ok and ok.data == {"id": "file_abc", "url": "https://s3.test/lobe/x"}
    empty = parse_batch(200, '[{"result":{"data":{"json":null,"meta":{"values":["undefined"]}}}}]')
    assert empty.ok and empty.data is None
    error = parse_batch(
        400,
        '[{"error":{"json":{"message":"File content is empty","code":-32600,"data":{"code":"BAD_REQUEST",'
        '"httpStatus":400,"path":"document.parseFileContent"}}}}]',
    )
    assert not error.ok and (error.code, error.error) == ("BAD_REQUEST", "File content is empty")
    assert error.describe() == "400 BAD_REQUEST 'File content is empty'"
    assert not parse_batch(502, "<html>Bad Gateway</html>").ok


# --- recorded from the real LobeChat 1.143.3 (the reference image set), under the e2e issue's faults ---------------
RECORDED = Path(__file__).parents[1] / "data" / "lobechat-1.143.3"


class _Discovery:
    """A target whose issuer's discovery is healthy: only LobeChat's log can name a cause."""

    capabilities = frozenset()

    def __init__(self, deployment: object) -> None:
        self.deployment = deployment
        self.http = self

    def get(self, url: str, **_: object) -> Response:
        issuer = "https://auth.test/oidc"
        document = {"issuer": issuer, "token_endpoint": f"{issuer}/token"}
        return Response(url, 200, {}, json.dumps(document).encode())


def test_recorded_auth_errors_of_the_real_lobechat(tmp_path: Path) -> None:
    render_ephemeral(tmp_path / "deploy")
    target = _Discovery(load_deployment(tmp_path / "deploy"))
    log = {path.stem.removeprefix("auth-"): path.read_text() for path in RECORDED.glob("auth-*.log")}
    assert set(log) == {"issuer-trailing-slash", "lobe-without-ca", "no-x-forwarded-proto", "wrong-client-secret"}

    secret = diagnosis.auth_error_lines(log["wrong-client-secret"])
    assert secret[1].startswith("[auth][cause]: WWWAuthenticateChallengeError")
    assert '"error": "invalid_client",' in secret and secret[-1] == "}"  # the details whole, no stack trace
    assert not [line for line in secret if line.startswith("at ")]
    said = diagnosis.lobechat_auth_error("Configuration", target, log["wrong-client-secret"], phase="callback")
    assert "AUTH_LOGTO_SECRET is not the application's secret" in said

    unreachable = diagnosis.lobechat_auth_error("Configuration", target, log["lobe-without-ca"], phase="sign-in")
    assert unreachable.startswith("LobeChat could not reach or did not trust https://auth.test/oidc (TypeError: fetch")

    xfp = diagnosis.auth_error_lines(log["no-x-forwarded-proto"])
    assert xfp[:2] == [
        "[auth][error] CallbackRouteError: Read more at https://errors.authjs.dev#callbackrouteerror",
        '[auth][cause]: OperationProcessingError: "response" is not a conform Token Endpoint response (unexpected '
        "HTTP status code)",
    ]
    slash = diagnosis.auth_error_lines(log["issuer-trailing-slash"])
    assert slash == [
        '[auth][error] OperationProcessingError: "response" body "issuer" property does not match the expected value'
    ]


_EMPTY = parse_batch(
    400,
    '[{"error":{"json":{"message":"File content is empty","code":-32600,"data":{"code":"BAD_REQUEST",'
    '"httpStatus":400,"path":"document.parseFileContent"}}}}]',
)


def test_recorded_upload_error_is_the_s3_read_not_the_changelog() -> None:
    """The real LobeChat without the private CA: its log has the changelog fetch's ENOTFOUND (no GitHub from the
    host) before the S3 read's UNABLE_TO_VERIFY_LEAF_SIGNATURE; the cause is the read's."""
    log = (RECORDED / "upload-lobe-without-ca.log").read_text()
    assert log.index("ENOTFOUND raw.githubusercontent.com") < log.index("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    said = diagnosis.parse_failed(_EMPTY, None, log, "https://s3.test")
    assert said.endswith(
        "read of the file back from S3_ENDPOINT https://s3.test: its log says UNABLE_TO_VERIFY_LEAF_SIGNATURE: the "
        "container does not trust the certificate (NODE_EXTRA_CA_CERTS)"
    )
    prefixed = "\n".join(f"lobe-1  | {line}" for line in log.splitlines())  # as `docker compose logs` prints it
    assert diagnosis.parse_failed(_EMPTY, None, prefixed, "https://s3.test") == said


def test_s3_error_code_reads_the_error_printed_with_the_procedures() -> None:
    recorded = (RECORDED / "upload-lobe-without-ca.log").read_text()
    changelog, rest = recorded.split('{"level":30')
    handler, rest = ('{"level":30' + rest).split("\n", 1)
    s3_error, trpc_error = rest.split("Error [TRPCError]")
    trpc_error = "Error [TRPCError]" + trpc_error
    unresolved = "Error: getaddrinfo ENOTFOUND %s\n    at GetAddrInfoReqWrap.onlookup (node:dns:120:26) {\n"
    unresolved += "  code: 'ENOTFOUND'\n}\n"

    def code(*parts: str, message: str = "File content is empty") -> str:
        return diagnosis.s3_error_code("".join(parts), message, "https://s3.test")

    # the order LobeChat printed them in (the S3 error, the handler's pino line on stdout, the tRPC error), and the
    # order Docker may show: the pino line anywhere
    assert code(changelog, s3_error, handler + "\n", trpc_error) == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    assert code(handler + "\n", changelog, s3_error, trpc_error) == "UNABLE_TO_VERIFY_LEAF_SIGNATURE"
    # only another host's error before the procedure's: no cause, with or without the tRPC error in the log
    assert code(changelog, handler + "\n", trpc_error) == ""
    assert code(changelog) == ""
    assert "nothing in its log names the cause" in diagnosis.parse_failed(_EMPTY, None, changelog, "https://s3.test")
    # S3's own name does not resolve: ENOTFOUND, by the host its message names
    assert code(changelog, unresolved % "s3.test", trpc_error) == "ENOTFOUND"
    assert code(changelog, unresolved % "s3.test") == "ENOTFOUND"  # no tRPC error: the whole log
    # an earlier failure of the same procedure is not this one's; a single-line error before it counts
    assert code(s3_error, trpc_error, "Error: connect ETIMEDOUT 10.0.0.9:443\n", trpc_error) == "ETIMEDOUT"
    # an error that carries its cause (another procedure's message): the cause's code
    removal = (
        "Error [TRPCError]: Failed to remove\n    at x\n  [cause]: Error: read ECONNRESET\n  code: 'ECONNRESET'\n}\n"
    )
    assert code(s3_error, removal, message="Failed to remove") == "ECONNRESET"
    assert "its log (not readable from this target)" in diagnosis.parse_failed(_EMPTY, None, None, "https://s3.test")


class _LaggingLog:
    """A target whose log shows what the app printed a few reads late, as Docker copies it."""

    def __init__(self, chunks: list[str] | None) -> None:
        self.chunks, self.reads = chunks, 0
        self.deployment = SimpleNamespace(lobe=SimpleNamespace(name="lobe"))

    def service_log(self, service: str, since: str) -> str | None:
        assert service == "lobe"
        if self.chunks is None:
            return None
        self.reads += 1
        return "".join(self.chunks[: self.reads])


def test_the_flow_reads_the_log_once_it_has_the_error(monkeypatch) -> None:
    monkeypatch.setattr(flows, "LOG_POLL_S", 0.001)
    lines = ["GET /chat\n", "Error in tRPC handler\n", "  code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'\n", "Error: empty\n"]

    def read(target: _LaggingLog, until: str) -> str | None:
        flow = flows.Flow(SimpleNamespace(target=target), None, None, None)
        return flow.log("lobe", until=until)

    target = _LaggingLog(lines)
    assert read(target, "Error: empty") == "".join(lines)  # not the first read's "GET /chat": all of it, settled
    assert target.reads == len(lines) + 1
    monkeypatch.setattr(flows, "LOG_WAIT_S", 0.05)
    never = _LaggingLog(["GET /chat\n"] * 1000)
    assert "GET /chat" in read(never, "[auth][")  # never shows it: as it is when the wait is over
    assert read(_LaggingLog(None), "x") is None  # a target without logs: no wait
