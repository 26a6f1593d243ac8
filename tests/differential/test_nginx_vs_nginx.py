"""The gate's Nginx model against a throwaway real Nginx on generated trees (hypothesis): several site files with
several servers per port (exact, wildcard and missing names, default_server, specific and wildcard addresses), an
included snippet, nested locations, exact / `^~` / regex locations and `if` blocks, each setting or inheriting
add_header, proxy_set_header and proxy_buffering. For each request (name, port, path, whether the `if` holds):
the server Nginx picks is the one the gate picks, and the response headers, the headers the upstream receives and
whether the answer streams are what the gate says. Both agree on which trees Nginx refuses, and `nginx -T` read
exactly the files the gate read. And the TLS protocol is the default server's, as NGINX-TLS-PROTOCOLS judges."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from lobestack.deployment.nginx import Block, Server, load_nginx
from lobestack.errors import BadInput
from tests.differential.realnginx import RealNginx, Upstreams, free_port, request

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not on this machine")
EXAMPLES = int(os.environ.get("LOBESTACK_DIFF_NGINX_EXAMPLES", "12"))
REQUESTS = int(os.environ.get("LOBESTACK_DIFF_NGINX_REQUESTS", "8"))

NAMES = ["a.test", "b.test", "*.w.test", "www.v.*", "_"]
HOSTS = ["a.test", "b.test", "x.w.test", "www.v.org", "other.test"]
PATHS = ["/", "/a/x", "/a/b/y", "/e", "/f/z", "/r5", "/zzz"]
BREAKS = [
    ("location", "    location /a { return 200; }\n    location /a { return 200; }\n"),
    ("location", "    location /q {\n        location /elsewhere { return 200; }\n    }\n"),
    ("location", "    location /i {\n        if ($http_x_cond) { proxy_set_header X-Bad 1; }\n    }\n"),
    ("server", "    proxy_buffering on;\n    proxy_buffering off;\n"),
]


@dataclass
class Tree:
    files: dict[str, str] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)
    servers: int = 0


_counter = itertools.count()


@st.composite
def trees(draw: st.DrawFn, ports: list[int], upstreams: list[int]) -> Tree:
    tree = Tree(ports=ports)
    sid = 0
    defaults: set[tuple[int, str]] = set()
    earlier: list[tuple[int, str, list[str]]] = []
    files = draw(st.integers(1, 3))
    broken = draw(st.sampled_from([None] * 8 + BREAKS))
    for f in range(files):
        text = ""
        for _ in range(draw(st.integers(1, 2))):
            if sid >= len(upstreams):
                break
            port = draw(st.sampled_from([ports[0], ports[0], ports[1]]))  # mostly one port: names compete
            # Both loopback: requests go to 127.0.0.1, so servers on 127.0.0.2 must never answer them.
            ip = draw(st.sampled_from(["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2"]))
            names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=2))
            if earlier and draw(st.booleans()):  # the same name again on the same address and port (first one wins)
                port, ip, names = draw(st.sampled_from(earlier))
            earlier.append((port, ip, names))
            address = f"{ip}:{port}"
            default = draw(st.integers(0, 4)) == 0 and (port, ip) not in defaults
            if default:
                defaults.add((port, ip))
            text += "server {\n" + f"    listen {address}{' default_server' if default else ''};\n"
            if names:
                text += f"    server_name {' '.join(names)};\n"
            text += _settings(draw, f"S{sid}", "    ")
            if draw(st.integers(0, 3)) == 0:
                text += "    include snippets/common.conf;\n"
            if broken is not None and broken[0] == "server" and sid == 0:
                text += broken[1]
            up = upstreams[sid]
            locations = draw(st.lists(st.sampled_from(["/", "/a", "= /e", "^~ /f", "~ ^/r[0-9]"]), unique=True))
            for lid, match in enumerate(locations):
                regex = match.startswith("~")
                uri = "" if regex else f"/S{sid}L{lid}/"
                text += f"    location {match} {{\n        proxy_pass http://127.0.0.1:{up}{uri};\n"
                text += _settings(draw, f"L{sid}{lid}", "        ")
                if draw(st.integers(0, 3)) == 0:
                    text += "        include snippets/location.conf;\n"
                if match == "/a" and draw(st.booleans()):
                    text += (
                        f"        location /a/b {{\n            proxy_pass http://127.0.0.1:{up}/S{sid}N{lid}/;\n"
                        + _settings(draw, f"N{sid}{lid}", "            ")
                        + "        }\n"
                    )
                if draw(st.integers(0, 2)) == 0:
                    text += f"        if ($http_x_cond) {{\n            add_header X-If-{sid}-{lid} on;\n        }}\n"
                text += "    }\n"
            if broken is not None and broken[0] == "location" and sid == 0:
                text += broken[1]
            text += "}\n"
            sid += 1
        if draw(st.integers(0, 3)) == 0:
            text = f"add_header X-Http-{f} h;\n" + text
        tree.files[f"nginx/{f * 10:02d}-site.conf"] = text
    tree.files["nginx/snippets/common.conf"] = "add_header X-Inc inc;\nproxy_set_header X-P-Inc inc;\n"
    tree.files["nginx/snippets/location.conf"] = "proxy_set_header X-P-Loc loc;\nadd_header X-Loc loc;\n"
    tree.servers = sid
    return tree


def _settings(draw: st.DrawFn, tag: str, indent: str) -> str:
    out = ""
    if draw(st.booleans()):
        out += f"{indent}add_header X-{tag} {tag.lower()};\n"
    if draw(st.booleans()):
        out += f"{indent}proxy_set_header X-P-{tag} {tag.lower()};\n"
    buffering = draw(st.sampled_from([None, "on", "off"]))
    if buffering:
        out += f"{indent}proxy_buffering {buffering};\n"
    return out


def _expected(server: Server, path: str, cond: bool) -> tuple[Block, dict[str, str], dict[str, str], bool]:
    block = server.location_for(path)
    if cond and block.ifs:
        block = block.ifs[-1]
    added = {d.args[0].lower(): d.args[1] for d in block.response_headers() if d.args[0].lower().startswith("x-")}
    sent = {
        d.args[0].lower(): d.args[1]
        for d in block.effective("proxy_set_header")
        if d.args[0].lower().startswith("x-p-")
    }
    buffering = block.effective("proxy_buffering")
    buffered = not buffering or buffering[0].args[0] != "off"
    return block, added, sent, buffered


@pytest.fixture(scope="module")
def upstreams():
    pool = Upstreams(6)
    yield pool
    pool.close()


COUNTS = {"trees": 0, "refused": 0, "requests": 0}


def test_gate_picks_what_nginx_picks(upstreams: Upstreams) -> None:
    ports = [free_port(), free_port()]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("LOBESTACK_DIFF_RANDOM") is None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each step restarts Nginx
    )
    @given(trees(ports, upstreams.ports), st.data())
    def check(tree: Tree, data: st.DataObject) -> None:
        root = Path(tempfile.mkdtemp(prefix="lobestack-diff-nginx-"))
        real = None
        try:
            for name, text in tree.files.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(text, encoding="utf-8")
            real = RealNginx(root, NGINX)
            ok, error = real.test()
            shown = "\n".join(f"--- {n}\n{t}" for n, t in tree.files.items())
            try:
                model = load_nginx(root / "nginx", root)
            except BadInput as exc:
                assert not ok, f"the gate refuses ({exc}) what nginx -t accepts\n{shown}"
                COUNTS["refused"] += 1
                return
            assert ok, f"nginx -t refuses ({error.strip()}) what the gate accepts\n{shown}"
            assert sorted(real.files_read()) == sorted(model.files), shown
            listening = sorted({lst.port for s in model.servers for lst in s.listens if lst.address == "127.0.0.1"})
            real.start(listening + [p for p in ports if p not in listening and _any_listen(model, p)])
            COUNTS["trees"] += 1
            if not listening:
                return
            for _ in range(REQUESTS):
                host = data.draw(st.sampled_from(HOSTS))
                port = data.draw(st.sampled_from(listening))
                path = data.draw(st.sampled_from(PATHS))
                cond = data.draw(st.booleans())
                server = model.server_for(host, port, "127.0.0.1")
                key = f"r{next(_counter)}"
                answer = request(port, host, path, upstreams.probe, key, {"X-Cond": "1"} if cond else None)
                COUNTS["requests"] += 1
                where = f"{host}:{port}{path} cond={cond}\n{shown}"
                if server is None:
                    pytest.fail(f"the gate picks no server, nginx answered {answer.status}: {where}")
                block, added, sent, buffered = _expected(server, path, cond)
                if not block.proxies():
                    assert answer.upstream is None, f"nginx proxied where the gate sees no proxy_pass: {where}"
                    continue
                assert answer.upstream is not None, f"nginx did not proxy ({answer.status}): {where}"
                assert answer.upstream["port"] == upstreams.ports[tree_index(model, server)], f"server: {where}"
                if not block.chain()[0 if block.kind != "if" else 1].match.startswith("~"):
                    assert answer.upstream["path"].startswith(_uri(block)), f"location: {where}"
                got_added = {k: v for k, v in answer.headers.items() if k.startswith("x-")}
                assert got_added == added, f"response headers: {where}"
                got_sent = {k.lower(): v for k, v in answer.upstream["headers"].items() if k.lower().startswith("x-p-")}
                assert got_sent == sent, f"upstream headers: {where}"
                assert answer.buffered == buffered, f"buffering: {where}"
        finally:
            if real is not None:
                real.stop()
            shutil.rmtree(root, ignore_errors=True)

    check()
    print(f"nginx differential: {COUNTS}")
    assert COUNTS["trees"] and COUNTS["requests"], COUNTS


def _any_listen(model, port: int) -> bool:
    return False  # servers on 127.0.0.2 only: nothing to wait for on 127.0.0.1


def tree_index(model, server: Server) -> int:
    return model.servers.index(server)


def _uri(block: Block) -> str:
    location = block if block.kind == "location" else block.parent
    assert location is not None
    target = location.first("proxy_pass").args[0]  # type: ignore[union-attr]
    return "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"


def test_tls_protocol_is_the_default_servers(tmp_path: Path) -> None:
    """A vhost's own ssl_protocols do not apply: the default server of the port decides, before SNI (nginx 1.22
    here). NGINX-TLS-PROTOCOLS judges the default server for that reason."""
    from lobestack.pki import CertificateAuthority

    ca = CertificateAuthority.create()
    for name in ("default.test", "b.test"):
        ca.issue(tmp_path / "certs" / name, name)
    port = free_port()
    site = ""
    for name, protocols in (("default.test", "TLSv1.3"), ("b.test", "TLSv1.2 TLSv1.3")):
        site += (
            f"server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name {name};\n"
            f"    ssl_certificate {tmp_path}/certs/{name}/fullchain.pem;\n"
            f"    ssl_certificate_key {tmp_path}/certs/{name}/privkey.pem;\n"
            f"    ssl_protocols {protocols};\n    return 200 {name};\n}}\n"
        )
    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx" / "site.conf").write_text(site, encoding="utf-8")
    model = load_nginx(tmp_path / "nginx", tmp_path)
    assert model.default_server("127.0.0.1", port).names == ["default.test"]
    real = RealNginx(tmp_path, NGINX)
    real.start([port])
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
            pytest.raises(ssl.SSLError),
            context.wrap_socket(sock, server_hostname="b.test"),
        ):
            pass
    finally:
        real.stop()


def test_nginx_runs_unprivileged_here() -> None:
    """The harness needs only a loopback port: check the binary answers -v."""
    assert subprocess.run([NGINX, "-v"], capture_output=True, timeout=10).returncode == 0
