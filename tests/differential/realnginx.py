"""A throwaway real Nginx for differential tests: a deployment's `nginx/` tree loaded by a generated main config,
on loopback ports, in front of small upstreams that report what reached them and whether the answer was buffered.

The buffering probe: an upstream answer starts with `first\\n`, then waits until the client has read that line (or
half a second) before it ends. With proxy_buffering off the client reads `first` while the upstream still waits;
with buffering on Nginx holds the bytes until the upstream ends."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PROBE_WAIT_S = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Probe:
    def __init__(self) -> None:
        self.read = {}  # request id -> Event set when the client has read `first`
        self.ended: set[str] = set()
        self.lock = threading.Lock()

    def event(self, key: str) -> threading.Event:
        with self.lock:
            return self.read.setdefault(key, threading.Event())


class Upstreams:
    """One small HTTP server per port; each answers with the port, path and headers it received."""

    def __init__(self, count: int) -> None:
        self.probe = _Probe()
        self.servers: list[ThreadingHTTPServer] = []
        probe = self.probe

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                key = self.headers.get("X-Req", "")
                body = {"port": self.server.server_address[1], "path": self.path, "headers": dict(self.headers)}
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"first\n")
                self.wfile.flush()
                probe.event(key).wait(PROBE_WAIT_S)
                with probe.lock:
                    probe.ended.add(key)
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args: object) -> None:
                pass

        for _ in range(count):
            server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self.servers.append(server)

    @property
    def ports(self) -> list[int]:
        return [s.server_address[1] for s in self.servers]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    upstream: dict | None  # what the upstream received, None when Nginx answered itself
    buffered: bool | None  # None when not proxied


def _main_config(root: Path, prefix: Path) -> str:
    temp = "\n".join(
        f"    {name}_temp_path {prefix}/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log error;\n"
        "events { worker_connections 128; }\n"
        f"http {{\n    access_log off;\n{temp}\n    include {root / 'nginx'}/*.conf;\n}}\n"
    )


class RealNginx:
    """Nginx on the site configs of `root` (a deployment directory); the main config sits beside them in nginx/, so
    a relative include resolves from there, as in the gate."""

    def __init__(self, root: Path, nginx: str = "nginx") -> None:
        self.root = root
        self.nginx = nginx
        self.prefix = root / ".nginx-run"
        self.prefix.mkdir(exist_ok=True)
        self.conf = root / "nginx" / "main.nginx"
        self.conf.write_text(_main_config(root, self.prefix), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> list[str]:
        return [self.nginx, "-p", f"{self.prefix}/", "-c", str(self.conf), *args]

    def test(self) -> tuple[bool, str]:
        result = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        return result.returncode == 0, result.stderr

    def files_read(self) -> list[str]:
        """The files `nginx -T` says it read, relative to the deployment directory (the main config left out)."""
        result = subprocess.run(self.command("-T"), capture_output=True, text=True, timeout=30)
        files = []
        for line in result.stdout.splitlines():
            if line.startswith("# configuration file ") and line.endswith(":"):
                path = Path(line[len("# configuration file ") : -1])
                if path != self.conf:
                    files.append(path.relative_to(self.root).as_posix())
        return files

    def start(self, ports: list[int]) -> None:
        """Start Nginx and wait until it accepts on 127.0.0.1 at each of `ports` (or, with none, until its pid
        file is written)."""
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (ports and all(_open(p) for p in ports)) or (not ports and (self.prefix / "nginx.pid").exists()):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            time.sleep(0.02)
        raise RuntimeError(f"nginx did not listen on {ports} within 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def _open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def request(port: int, host: str, path: str, probe: _Probe, key: str, extra: dict[str, str] | None = None) -> Answer:
    """GET path with Host `host` from 127.0.0.1:port; whether the answer streamed is read from the probe."""
    headers = {"Host": host, "X-Req": key, "Connection": "close", **(extra or {})}
    raw = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    data = b""
    streamed: bool | None = None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw.encode())
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if streamed is None and b"\r\n\r\n" in data and b"first\n" in data.split(b"\r\n\r\n", 1)[1]:
                with probe.lock:
                    streamed = key not in probe.ended
                probe.event(key).set()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    answer_headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    if "chunked" in answer_headers.get("transfer-encoding", ""):
        body = _unchunk(body)
    upstream = None
    if body.startswith(b"first\n"):
        upstream = json.loads(body[len(b"first\n") :].decode())
    return Answer(status, answer_headers, upstream, None if upstream is None else not streamed)


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out
