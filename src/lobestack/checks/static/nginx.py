"""Nginx policy: TLS profile, HSTS, the port-80 redirect, forwarded headers, and what each vhost's upstream needs
(streaming for the app, SigV4-safe proxying for S3, the admin route for Logto).

Every check judges what Nginx really does (deployment/nginx.py): the server Nginx picks for each public name and
port, and, in it, the effective directives of every block that answers requests — nested locations and `if`
blocks included, with Nginx's inheritance (a block that sets any add_header or proxy_set_header replaces the whole
inherited list)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin

from lobestack.checks.faults import AddFile, Edit, SetEnv, fault, passes
from lobestack.checks.registry import CheckSkipped, Finding, Group
from lobestack.checks.static.applies import cannot_judge, minio_of, nginx_of
from lobestack.deployment import Deployment
from lobestack.deployment.compose import Service
from lobestack.deployment.nginx import Block, Server

GROUP = Group("NGINX", layer="static", title="Nginx policy")

APP, AUTH, S3 = "nginx/app.conf", "nginx/auth.conf", "nginx/s3.conf"
# Mozilla's intermediate TLS 1.2 list: ECDHE (and DHE with RSA, as certbot's options-ssl-nginx.conf has it) with
# AES-GCM or ChaCha20.
_GOOD_CIPHER = re.compile(
    r"^((ECDHE-(ECDSA|RSA)|DHE-RSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)|TLS_.*)$"
)
_SIZE = re.compile(r"^(\d+)([kKmMgG]?)$")
_TIME = re.compile(r"^(\d+)(ms|s|m|h|d)?$")
_STRONG = {"TLSv1.2", "TLSv1.3"}
_APP_LOCATION = "    location / {\n        proxy_pass http://127.0.0.1:23210;\n"
# A second site file whose server is the default of port 443 (first in name order, or marked default_server).
_DEFAULT_443 = (
    "server {{\n    listen 443 ssl{mark};\n    listen [::]:443 ssl{mark};\n    server_name _;\n"
    "    ssl_certificate /etc/letsencrypt/live/lobe.example.com/fullchain.pem;\n"
    "    ssl_certificate_key /etc/letsencrypt/live/lobe.example.com/privkey.pem;\n"
    "    ssl_protocols {protocols};\n    return 444;\n}}\n"
)


def _ssl_servers(d: Deployment) -> list[Server]:
    return [s for s in nginx_of(d).servers if s.ssl]


def _size_bytes(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        return -1
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]


def _seconds(text: str) -> float:
    match = _TIME.match(text)
    if not match:
        return -1
    return int(match.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _vhost(d: Deployment, service: Service | None, key: str) -> list[Server]:
    """The servers that carry the name of the URL a container gets, on its port. A URL no server carries is
    XREF-SERVER-NAMES' finding: it is not judged again here through whatever server answers by default."""
    nginx = nginx_of(d)
    origin = d.origin_of(service, key)
    return nginx.named_servers_for(origin.host, origin.port) if origin else []


def _no_vhost(keys: str) -> Exception:
    return cannot_judge(f"the vhost of {keys}", "no server carries its name (XREF-SERVER-NAMES says which)")


def _label(block: Block) -> str:
    if block.kind == "if":
        parent = block.parent
        inside = f" in location {parent.match}" if parent is not None and parent.kind == "location" else ""
        return f"if ({block.match}){inside}"
    return f"location {block.match}"


@GROUP.check(
    "NGINX-TLS-PROTOCOLS",
    title="TLS allows TLSv1.2 and TLSv1.3 only, as negotiated: by the default server of each address and port",
    fix="ssl_protocols TLSv1.2 TLSv1.3; on the default server of the port (the first server listening on it, or "
    "the one marked default_server) — Nginx picks the protocol before it knows the name, so a vhost's own "
    "ssl_protocols do not apply",
    faults=[
        fault(
            Edit(APP, "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;"),
            expect="allows TLSv1 TLSv1.1",
        ),
        fault(Edit(APP, "    ssl_protocols TLSv1.2 TLSv1.3;\n", ""), expect="no ssl_protocols on its default server"),
        # Another site file, first in name order: its server is the default of 443 for every name.
        fault(
            AddFile("nginx/00-default.conf", _DEFAULT_443.format(mark="", protocols="TLSv1 TLSv1.2")),
            expect="ssl_protocols of the default server (nginx/00-default.conf:1) allows TLSv1",
        ),
    ],
    passes=[
        passes(
            AddFile("nginx/00-tls.conf", "ssl_protocols TLSv1.2 TLSv1.3;\n"),
            Edit(APP, "    ssl_protocols TLSv1.2 TLSv1.3;\n", ""),
            Edit(AUTH, "    ssl_protocols TLSv1.2 TLSv1.3;\n", "", count=2),
            Edit(S3, "    ssl_protocols TLSv1.2 TLSv1.3;\n", ""),
            why="set once at http level and inherited",
        ),
        passes(
            Edit(S3, "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.2 TLSv1.3;"),
            why="a weak setting on a server that is not the default of its port (Nginx ignores it)",
        ),
    ],
    impact="exposure",
)
def tls_protocols(d: Deployment) -> Iterator[Finding]:
    judged: set[int] = set()
    ports = sorted({lst.port for s in _ssl_servers(d) for lst in s.listens if lst.ssl})
    for port in ports:
        for address, _ in nginx_of(d).listening(port):
            default = nginx_of(d).default_server(address, port)
            if default is None or id(default) in judged:
                continue
            judged.add(id(default))
            names = sorted({n for s in nginx_of(d).servers_on(address, port) for n in s.names if n != "_"})
            directive = default.effective("ssl_protocols")
            if not directive:
                yield Finding(
                    f"port {port}: no ssl_protocols on its default server (the Nginx default depends on the build), "
                    f"for every name on the port: {', '.join(names)}",
                    default.where,
                )
            elif set(directive[0].args) - _STRONG:
                weak = " ".join(sorted(set(directive[0].args) - _STRONG))
                yield Finding(
                    f"port {port}: ssl_protocols of the default server ({default.where}) allows {weak}, for every "
                    f"name on the port: {', '.join(names)}",
                    directive[0].where,
                )


@GROUP.check(
    "NGINX-TLS-CIPHERS",
    title="TLS 1.2 ciphers are Mozilla intermediate's (ECDHE or DHE-RSA with AES-GCM or ChaCha20), client order "
    "preferred",
    fix="use the Mozilla intermediate ssl_ciphers list and ssl_prefer_server_ciphers off",
    faults=[
        fault(
            Edit(
                S3,
                "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:",
                "ssl_ciphers AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:",
            ),
            expect="ssl_ciphers includes AES128-SHA",
        ),
        fault(
            Edit(APP, "ssl_prefer_server_ciphers off;", "ssl_prefer_server_ciphers on;"),
            expect="ssl_prefer_server_ciphers on",
        ),
        fault(Edit(S3, "    ssl_ciphers ECDHE-", "    # ssl_ciphers ECDHE-"), expect="no ssl_ciphers"),
    ],
    passes=[
        passes(
            Edit(
                S3,
                "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:",
                "ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:",
            ),
            why="a shorter list of good ciphers",
        ),
        passes(
            Edit(
                S3,
                "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:",
                'ssl_ciphers "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:',
            ),
            Edit(S3, "ECDHE-RSA-CHACHA20-POLY1305;", 'ECDHE-RSA-CHACHA20-POLY1305";'),
            why="certbot's options-ssl-nginx.conf list: Mozilla intermediate with DHE-RSA, quoted",
        ),
    ],
    impact="exposure",
)
def tls_ciphers(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        directive = s.effective("ssl_ciphers")
        if not directive:
            yield Finding("no ssl_ciphers", s.where)
        else:
            weak = [c for c in directive[0].args[0].split(":") if c and not _GOOD_CIPHER.match(c)]
            if weak:
                yield Finding(f"ssl_ciphers includes {':'.join(weak)}", directive[0].where)
        prefer = s.effective("ssl_prefer_server_ciphers")
        if prefer and prefer[0].args[:1] == ("on",):
            yield Finding("ssl_prefer_server_ciphers on", prefer[0].where)


@GROUP.check(
    "NGINX-HSTS",
    title="every answer of a TLS server carries Strict-Transport-Security max-age >= 63072000 with `always` "
    "(nested locations and `if` blocks included)",
    fix='add_header Strict-Transport-Security "max-age=63072000" always; — and repeat it in every location or if '
    "block that has add_header of its own (one add_header there replaces all the inherited ones)",
    faults=[
        fault(
            Edit(
                S3,
                'add_header Strict-Transport-Security "max-age=63072000" always;',
                'add_header Strict-Transport-Security "max-age=3600" always;',
            ),
            expect="has max-age below 63072000",
        ),
        fault(
            Edit(
                S3,
                'add_header Strict-Transport-Security "max-age=63072000" always;',
                'add_header Strict-Transport-Security "max-age=63072000";',
            ),
            expect="HSTS without `always`",
        ),
        fault(
            Edit(S3, '    add_header Strict-Transport-Security "max-age=63072000" always;\n', ""),
            expect="no Strict-Transport-Security header",
        ),
        fault(
            Edit(
                APP,
                _APP_LOCATION,
                _APP_LOCATION + "        location /api/ {\n            add_header X-Frame-Options DENY;\n"
                "            proxy_pass http://127.0.0.1:23210;\n        }\n",
            ),
            expect="location /api/ has its own add_header (nginx/app.conf:39), which drops HSTS",
        ),
        fault(
            Edit(
                APP,
                _APP_LOCATION,
                _APP_LOCATION + "        if ($http_x_debug) {\n            add_header X-Debug on;\n        }\n",
            ),
            expect="if ($http_x_debug) in location / has its own add_header",
        ),
    ],
    passes=[
        passes(
            Edit(
                APP,
                _APP_LOCATION,
                _APP_LOCATION + "        location /api/ {\n            add_header X-Frame-Options DENY;\n"
                '            add_header Strict-Transport-Security "max-age=63072000" always;\n'
                "            proxy_pass http://127.0.0.1:23210;\n        }\n",
            ),
            why="a nested location that repeats HSTS beside its own header",
        )
    ],
    impact="exposure",
)
def hsts(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        judged: set[str] = set()
        server_headers = s.response_headers()
        for block in [s, *s.contexts()]:
            headers = block.response_headers()
            found = [h for h in headers if h.args and h.args[0].lower() == "strict-transport-security"]
            if not found:
                if block is s:
                    yield Finding("no Strict-Transport-Security header", s.where)
                elif headers and headers != server_headers:
                    yield Finding(
                        f"{_label(block)} has its own add_header ({headers[0].where}), which drops HSTS",
                        headers[0].where,
                    )
                continue
            h = found[0]
            if h.where in judged:
                continue
            judged.add(h.where)
            match = re.search(r"max-age=(\d+)", h.args[1] if len(h.args) > 1 else "")
            if not match or int(match.group(1)) < 63072000:
                yield Finding(f"HSTS {h.args[1:2]} has max-age below 63072000", h.where)
            if "always" not in h.args[2:]:
                yield Finding("HSTS without `always` (missing on error answers)", h.where)


@GROUP.check(
    "NGINX-HTTP-REDIRECT",
    title="every public name answers plain http with a 301 to https (from the port-80 server Nginx picks for it)",
    fix="add a `listen 80` server for the name with `return 301 https://$host$request_uri;`",
    faults=[
        fault(
            Edit(APP, "return 301 https://$host$request_uri;", "return 302 https://$host$request_uri;"),
            expect="lobe.example.com on port 80 is answered by nginx/app.conf:2, which does not 301",
        ),
        fault(
            Edit(
                S3,
                "    return 301 https://$host$request_uri;\n",
                "    location / { proxy_pass http://127.0.0.1:29000; }\n",
            ),
            expect="s3.example.com on port 80 is answered by nginx/s3.conf:4",
        ),
        fault(
            Edit(APP, "    listen 80;\n    listen [::]:80;\n", "    listen 8080;\n    listen [::]:8080;\n"),
            Edit(AUTH, "    listen 80;\n    listen [::]:80;\n", "    listen 8080;\n    listen [::]:8080;\n"),
            Edit(S3, "    listen 80;\n    listen [::]:80;\n", "    listen 8080;\n    listen [::]:8080;\n"),
            expect="nothing answers plain http on port 80",
        ),
    ],
    passes=[
        passes(
            Edit(
                S3,
                "server {\n    listen 80;\n    listen [::]:80;\n    server_name s3.example.com;\n",
                "server {\n    listen 8081;\n    server_name s3-old.example.com;\n",
            ),
            why="no port-80 server of its own: the default server of port 80 (the app's redirect) answers it",
        )
    ],
    impact="exposure",
)
def http_redirect(d: Deployment) -> Iterator[Finding]:
    names = {
        n for s in _ssl_servers(d) for n in s.names if n not in ("_", "") and not n.startswith("~") and "*" not in n
    }
    for name in sorted(names):
        plain = [s for s in nginx_of(d).servers_for(name, 80) if not s.ssl]
        if not plain:
            yield Finding(f"{name}: nothing answers plain http on port 80", nginx_of(d).servers_for(name)[0].where)
            continue
        for s in plain:
            ret = s.first("return")
            if ret is None or ret.args[0] != "301" or not ret.args[1:2] or not ret.args[1].startswith("https://"):
                yield Finding(
                    f"{name} on port 80 is answered by {s.where}, which does not 301 to https", (ret or s).where
                )


@GROUP.check(
    "NGINX-FORWARDED",
    title="every proxied location (nested ones included) forwards Host, X-Forwarded-For and X-Forwarded-Proto",
    fix="proxy_set_header Host $host (or $http_host), X-Forwarded-For $proxy_add_x_forwarded_for, "
    "X-Forwarded-Proto $scheme — in every location that has a proxy_set_header of its own (it replaces the "
    "inherited ones); without the proto, Logto's discovery turns http:// and sign-in fails",
    faults=[
        # Logto core's location (the console's has its own): the header line after its X-Forwarded-For.
        fault(
            Edit(
                AUTH,
                "proxy_pass http://127.0.0.1:23001;\n        proxy_http_version 1.1;\n"
                "        proxy_set_header Host $host;\n"
                "        proxy_set_header X-Real-IP $remote_addr;\n"
                "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                "        proxy_set_header X-Forwarded-Proto $scheme;\n",
                "proxy_pass http://127.0.0.1:23001;\n        proxy_http_version 1.1;\n"
                "        proxy_set_header Host $host;\n"
                "        proxy_set_header X-Real-IP $remote_addr;\n"
                "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n",
            ),
            expect="auth.example.com location /: X-Forwarded-Proto not set",
        ),
        fault(
            Edit(APP, "        proxy_set_header Host $host;\n", ""), expect="lobe.example.com location /: Host not set"
        ),
        fault(
            Edit(
                APP,
                _APP_LOCATION,
                _APP_LOCATION + "        location /api/ {\n            proxy_pass http://127.0.0.1:23210;\n"
                "            proxy_set_header X-Request-Start $msec;\n        }\n",
            ),
            expect="lobe.example.com location /api/: Host not set",
        ),
    ],
    passes=[
        passes(
            Edit(
                S3,
                "        proxy_set_header Host $http_host;\n        proxy_set_header X-Real-IP $remote_addr;\n"
                "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                "        proxy_set_header X-Forwarded-Proto $scheme;\n"
                "        proxy_set_header X-Forwarded-Host $http_host;\n",
                "",
            ),
            Edit(S3, '        proxy_set_header Connection "";\n', ""),
            Edit(
                S3,
                "    proxy_request_buffering off;\n",
                "    proxy_request_buffering off;\n    proxy_set_header Host $http_host;\n"
                "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                "    proxy_set_header X-Forwarded-Proto $scheme;\n",
            ),
            why="headers set at server level, inherited by a location that sets none",
        )
    ],
    impact="breaks",
)
def forwarded(d: Deployment) -> Iterator[Finding]:
    for s in nginx_of(d).servers:
        for loc in s.proxy_locations():
            for header, allowed in (
                ("Host", ("$host", "$http_host")),
                ("X-Forwarded-For", ("$proxy_add_x_forwarded_for",)),
                ("X-Forwarded-Proto", ("$scheme", "https")),
            ):
                value = loc.header(header)
                if value not in allowed:
                    shown = "not set" if value is None else f"set to {value}"
                    yield Finding(
                        f"{s.names[0] if s.names else '?'} {_label(loc)}: {header} {shown}", f"{loc.file}:{loc.line}"
                    )


@GROUP.check(
    "NGINX-HOST-PORT",
    title="vhosts on a non-default port keep the port in Host ($http_host)",
    fix="proxy_set_header Host $http_host; ($host drops the port: Logto stops matching ADMIN_ENDPOINT and the "
    "console loops to /unknown-session)",
    faults=[
        fault(
            Edit(AUTH, "        proxy_set_header Host $http_host;\n", "        proxy_set_header Host $host;\n"),
            expect="port [8443] location /: Host is $host",
        )
    ],
    passes=[
        passes(
            Edit(
                AUTH,
                "        proxy_set_header Host $http_host;\n",
                "        proxy_set_header Host $http_host;\n        proxy_set_header X-Forwarded-Port 8443;\n",
            ),
            why="more headers beside Host",
        )
    ],
    impact="breaks",
)
def host_port(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        if s.ports <= {443}:
            continue
        for loc in s.proxy_locations():
            if loc.header("Host") != "$http_host":
                yield Finding(
                    f"port {sorted(s.ports)} {_label(loc)}: Host is {loc.header('Host')}", f"{loc.file}:{loc.line}"
                )


@GROUP.check(
    "NGINX-APP-STREAMING",
    title="the app vhost streams in every proxied location: proxy_buffering off, X-Accel-Buffering honoured, "
    "long read timeout",
    fix="proxy_buffering off; proxy_read_timeout 600s; and never `proxy_ignore_headers X-Accel-Buffering` — in "
    "the app's server and every location under it",
    faults=[
        fault(
            Edit(
                APP,
                "    proxy_buffering off;\n",
                "    proxy_buffering on;\n    proxy_ignore_headers X-Accel-Buffering;\n",
            ),
            expect="proxy_buffering on and X-Accel-Buffering ignored",
        ),
        fault(Edit(APP, "proxy_read_timeout 600s;", "proxy_read_timeout 30s;"), expect="proxy_read_timeout 30s"),
        fault(
            Edit(APP, "    proxy_buffering off;\n", "    proxy_buffering on;\n"),
            expect="proxy_buffering is not off",
        ),
        fault(
            Edit(
                APP,
                "    proxy_buffering off;\n",
                "    proxy_buffering off;\n    proxy_ignore_headers X-Accel-Buffering;\n",
            ),
            expect="proxy_ignore_headers X-Accel-Buffering",
        ),
        fault(
            Edit(
                APP,
                _APP_LOCATION,
                _APP_LOCATION + "        location /webapi/ {\n            proxy_pass http://127.0.0.1:23210;\n"
                "            proxy_buffering on;\n        }\n",
            ),
            expect="proxy_buffering is not off for the chat stream (location /webapi/)",
        ),
    ],
    passes=[
        passes(
            Edit(APP, "    proxy_buffering off;\n", ""),
            Edit(
                APP,
                "        proxy_http_version 1.1;\n",
                "        proxy_http_version 1.1;\n        proxy_buffering off;\n",
            ),
            why="proxy_buffering off set in the location instead of the server",
        )
    ],
    impact="breaks",
)
def app_streaming(d: Deployment) -> Iterator[Finding]:
    servers = _vhost(d, d.lobe, "APP_URL")
    if not servers:
        raise _no_vhost("APP_URL")
    for s in servers:
        for loc in s.proxy_locations():
            buffering = loc.effective("proxy_buffering")
            ignore = [i for i in loc.effective("proxy_ignore_headers") if "X-Accel-Buffering" in i.args]
            where = f"{loc.file}:{loc.line}"
            if not buffering or buffering[0].args[:1] != ("off",):
                if ignore:
                    yield Finding(
                        "proxy_buffering on and X-Accel-Buffering ignored: chat answers arrive in one block "
                        f"({_label(loc)})",
                        ignore[0].where,
                    )
                else:
                    yield Finding(
                        f"proxy_buffering is not off for the chat stream ({_label(loc)})",
                        buffering[0].where if buffering else where,
                    )
            elif ignore:
                yield Finding(f"proxy_ignore_headers X-Accel-Buffering ({_label(loc)})", ignore[0].where)
            timeout = loc.effective("proxy_read_timeout")
            if not timeout or _seconds(timeout[0].args[0]) < 300:
                yield Finding(
                    f"proxy_read_timeout {timeout[0].args[0] if timeout else '60s (default)'} < 300s: slow "
                    f"model answers are cut ({_label(loc)})",
                    timeout[0].where if timeout else where,
                )


@GROUP.check(
    "NGINX-BODY-SIZE",
    title="the app vhost accepts uploads (client_max_body_size >= 50m) and the S3 vhost any size (0)",
    fix="client_max_body_size 100m; on the app vhost and 0 on the S3 vhost (the default 1m answers 413)",
    faults=[
        fault(Edit(APP, "    client_max_body_size 100m;\n", ""), expect="APP_URL vhost client_max_body_size 1m"),
        fault(
            Edit(S3, "client_max_body_size 0;", "client_max_body_size 10m;"),
            expect="S3_ENDPOINT vhost client_max_body_size 10m",
        ),
    ],
    passes=[
        passes(Edit(APP, "client_max_body_size 100m;", "client_max_body_size 0;"), why="no limit on the app either"),
        passes(
            Edit(APP, "    client_max_body_size 100m;\n", ""),
            AddFile("nginx/00-body.conf", "client_max_body_size 200m;\n"),
            why="set at http level",
        ),
        passes(
            Edit("nginx/s3.conf", "server_name s3.example.com;", "server_name files.example.com;", count=2),
            why="S3's name on no server: XREF-SERVER-NAMES' finding, not re-reported through the default server",
        ),
    ],
    impact="breaks",
)
def body_size(d: Deployment) -> Iterator[Finding]:
    nginx_of(d)
    keys = [("APP_URL", 50 * 1024**2)] + ([("S3_ENDPOINT", 0)] if d.minio is not None else [])
    judged = {key: _vhost(d, d.lobe, key) for key, _ in keys}
    if not any(judged.values()):
        raise _no_vhost(" and ".join(judged))
    for key, minimum in keys:
        for s in judged[key]:
            for loc in s.proxy_locations():
                size = loc.effective("client_max_body_size")
                value = _size_bytes(size[0].args[0]) if size else 1024**2
                if (minimum == 0 and value != 0) or (minimum and 0 < value < minimum):
                    shown = size[0].args[0] if size else "1m (default)"
                    yield Finding(f"{key} vhost client_max_body_size {shown}", size[0].where if size else s.where)


@GROUP.check(
    "NGINX-S3-PROXY",
    title="the S3 vhost passes requests to MinIO unchanged (Host kept, no buffering, no rewrites)",
    fix="in the S3 vhost: proxy_set_header Host $http_host; proxy_buffering off; proxy_request_buffering off; "
    "ignore_invalid_headers off; no rewrite — SigV4 signs the host and path",
    faults=[
        fault(
            Edit(S3, "        proxy_set_header Host $http_host;\n", "        proxy_set_header Host minio:9000;\n"),
            expect="Host is minio:9000, not $http_host",
        ),
        fault(Edit(S3, "    proxy_request_buffering off;\n", ""), expect="proxy_request_buffering is not off"),
        fault(
            Edit(S3, "    location / {\n", "    location / {\n        rewrite ^/s3/(.*)$ /$1 break;\n"),
            expect="a rewrite changes the signed path",
        ),
        fault(Edit(S3, "    ignore_invalid_headers off;\n", ""), expect="ignore_invalid_headers is not off"),
    ],
    passes=[
        passes(
            Edit(S3, "    proxy_buffering off;\n    proxy_request_buffering off;\n", ""),
            Edit(
                S3,
                "        proxy_connect_timeout 300s;\n",
                "        proxy_connect_timeout 300s;\n        proxy_buffering off;\n"
                "        proxy_request_buffering off;\n",
            ),
            why="buffering switched off in the location",
        ),
        passes(
            Edit("nginx/s3.conf", "server_name s3.example.com;", "server_name files.example.com;", count=2),
            why="S3's name on no server: XREF-SERVER-NAMES' finding, not re-reported through the default server",
        ),
    ],
    impact="breaks",
)
def s3_proxy(d: Deployment) -> Iterator[Finding]:
    minio_of(d)
    servers = _vhost(d, d.lobe, "S3_ENDPOINT")
    if not servers:
        raise _no_vhost("S3_ENDPOINT")
    for s in servers:
        invalid = s.effective("ignore_invalid_headers")
        if not invalid or invalid[0].args[:1] != ("off",):
            yield Finding("ignore_invalid_headers is not off", s.where)
        for loc in s.proxy_locations():
            where = f"{loc.file}:{loc.line}"
            if loc.header("Host") != "$http_host":
                yield Finding(
                    f"Host is {loc.header('Host')}, not $http_host: presigned URLs fail with SignatureDoesNotMatch",
                    where,
                )
            for name in ("proxy_buffering", "proxy_request_buffering"):
                value = loc.effective(name)
                if not value or value[0].args[:1] != ("off",):
                    yield Finding(f"{name} is not off ({_label(loc)})", value[0].where if value else where)
            for rw in (r for block in loc.chain() for r in block.get("rewrite")):
                yield Finding("a rewrite changes the signed path", rw.where)


@GROUP.check(
    "NGINX-AUTHORIZATION",
    title="the app vhost passes Authorization through (NextAuth's adapter calls APP_URL with a bearer token)",
    fix='remove `proxy_set_header Authorization ""` (or any rewrite of Authorization) from the app vhost',
    faults=[
        fault(
            Edit(
                APP,
                "        proxy_http_version 1.1;\n",
                '        proxy_http_version 1.1;\n        proxy_set_header Authorization "";\n',
            ),
            expect="location / sets Authorization to ''",
        )
    ],
    passes=[
        passes(
            Edit(
                APP,
                "        proxy_http_version 1.1;\n",
                "        proxy_http_version 1.1;\n        proxy_set_header Authorization $http_authorization;\n",
            ),
            why="Authorization passed on explicitly",
        )
    ],
    impact="breaks",
)
def authorization(d: Deployment) -> Iterator[Finding]:
    servers = _vhost(d, d.lobe, "APP_URL")
    if not servers:
        raise _no_vhost("APP_URL")
    for s in servers:
        for loc in s.proxy_locations():
            value = loc.header("Authorization")
            if value is not None and value != "$http_authorization":
                yield Finding(f"{_label(loc)} sets Authorization to {value!r}", f"{loc.file}:{loc.line}")


@GROUP.check(
    "NGINX-ADMIN-ROUTE",
    title="where the console shares the auth name, /admin on it leads to the Logto console at ADMIN_ENDPOINT",
    fix="location = /admin { return 301 <LOGTO_ADMIN_ENDPOINT>/console; } on the auth vhost",
    faults=[
        fault(
            Edit(AUTH, "    location = /admin {\n        return 301", "    location = /nothing {\n        return 301"),
            expect="/admin is not redirected on the auth vhost",
        ),
        fault(
            Edit(
                AUTH,
                "return 301 https://auth.example.com:8443/console;",
                "return 301 https://auth.example.com/console;",
            ),
            expect="/admin leads to https://auth.example.com/console, not https://auth.example.com:8443/console",
        ),
        # relative: the browser stays on the core origin
        fault(
            Edit(AUTH, "return 301 https://auth.example.com:8443/console;", "return 301 /console;"),
            expect="/admin leads to https://auth.example.com/console, not",
        ),
    ],
    passes=[
        passes(
            Edit(AUTH, "    location = /admin {\n", "    location ^~ /admin {\n"),
            why="a prefix location instead of an exact one",
        ),
        passes(
            Edit(AUTH, "return 301 https://auth.example.com:8443/console;", "return 301 $scheme://$host:8443/console;"),
            why="the target written with Nginx's variables",
        ),
        passes(
            Edit(AUTH, "    location = /admin {\n        return 301", "    location = /nothing {\n        return 301"),
            SetEnv({"LOGTO_ADMIN_ENDPOINT": "https://admin.example.com"}),
            why="the console on a name of its own: no /admin redirect applies (skipped, saying so)",
        ),
    ],
    impact="advice",
)
def admin_route(d: Deployment) -> Iterator[Finding]:
    nginx_of(d)
    core, admin = d.origin_of(d.logto, "ENDPOINT"), d.origin_of(d.logto, "ADMIN_ENDPOINT")
    if core is None or admin is None:
        raise CheckSkipped("Logto gets no ENDPOINT and ADMIN_ENDPOINT (ENV-REQUIRED says so)")
    if admin.host != core.host:
        raise CheckSkipped(f"the console has a name of its own ({admin.host}): /admin on {core.host} leads nowhere")
    servers = _vhost(d, d.logto, "ENDPOINT")
    if not servers:
        raise _no_vhost("ENDPOINT")
    want = f"{admin}/console"
    for s in servers:
        block = s.location_for("/admin")
        ret = block.first("return") if block is not s else None
        if ret is None or len(ret.args) < 2:
            yield Finding("/admin is not redirected on the auth vhost", s.where)
            continue
        # the target as the browser follows it: Nginx's variables filled in, a relative one on the auth origin
        target = urljoin(f"{core}/", ret.args[-1].replace("$scheme", core.scheme).replace("$host", core.host))
        if not (target == want or target.startswith(want + "/")):
            yield Finding(f"/admin leads to {target}, not {want}", ret.where)


@GROUP.check(
    "NGINX-CERTIFICATE",
    title="every TLS server names a certificate and its key",
    fix="ssl_certificate and ssl_certificate_key for the server's name (Let's Encrypt: /etc/letsencrypt/live/NAME/)",
    faults=[
        fault(
            Edit(APP, "    ssl_certificate_key /etc/letsencrypt/live/lobe.example.com/privkey.pem;\n", ""),
            expect="lobe.example.com: no ssl_certificate_key",
        )
    ],
    passes=[
        passes(
            Edit(S3, "    ssl_certificate /etc/letsencrypt/live/s3.example.com/fullchain.pem;\n", ""),
            Edit(S3, "    ssl_certificate_key /etc/letsencrypt/live/s3.example.com/privkey.pem;\n", ""),
            AddFile(
                "nginx/00-cert.conf",
                "ssl_certificate /etc/letsencrypt/live/example.com/fullchain.pem;\n"
                "ssl_certificate_key /etc/letsencrypt/live/example.com/privkey.pem;\n",
            ),
            why="one certificate set at http level",
        )
    ],
    impact="breaks",
)
def certificate(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        for name in ("ssl_certificate", "ssl_certificate_key"):
            if not s.effective(name):
                yield Finding(f"{s.names[0] if s.names else '?'}: no {name}", s.where)
