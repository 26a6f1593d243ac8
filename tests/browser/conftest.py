"""A local HTTPS site for the browser's own tests (no stack): `site.test` on 127.0.0.1, its certificate from a CA
made for the module, serving a sign-in form whose POST lands on a result page."""

from __future__ import annotations

import http.server
import shutil
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FORM = (
    b"<!DOCTYPE html><html><body><form method=post action=/sign-in>"
    b"<input name=identifier><input name=password type=password><button name=submit>Sign in</button>"
    b"</form></body></html>"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(200, FORM)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(200, b"<!DOCTYPE html><html><body><p role=alert>Invalid credentials</p></body></html>")

    def log_message(self, *args: object) -> None:
        return


@dataclass
class Site:
    url: str
    port: int
    ca_file: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from lobestack import pki

    if shutil.which("certutil") is None or not Path("/usr/bin/chromium").exists():
        pytest.skip("no Chromium or certutil (scripts/setup-host installs chromium and libnss3-tools)")
    workdir = tmp_path_factory.mktemp("site")
    pki.issue(workdir / "certs", ["site.test"], workdir / "ca.pem", workdir / "ca-key.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(workdir / "certs/site.test/fullchain.pem", workdir / "certs/site.test/privkey.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield Site(f"https://site.test:{port}/", port, workdir / "ca.pem")
    finally:
        server.shutdown()


class SiteTarget:
    """The least a target offers the browser: its pinned names and its CA."""

    def __init__(self, ca_file: Path | None, *, only_pinned: bool = True) -> None:
        self.ca_file = ca_file
        self.only_pinned_names = only_pinned

    def name_pins(self) -> dict[str, str]:
        return {"site.test": "127.0.0.1"}

    def accounts(self) -> object:
        from lobestack.targets.target import Accounts

        return Accounts()
