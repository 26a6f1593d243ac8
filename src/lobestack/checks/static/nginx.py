"""Nginx policy: TLS profile, HSTS, the port-80 redirect, forwarded headers, and what each vhost's upstream needs
(streaming for the app, SigV4-safe proxying for S3, the admin route for Logto)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lobestack.checks.faults import Edit
from lobestack.checks.registry import Finding, Group
from lobestack.deployment import Deployment
from lobestack.deployment.nginx import Server

GROUP = Group("NGINX", layer="static", title="Nginx policy")

APP, AUTH, S3 = "nginx/app.conf", "nginx/auth.conf", "nginx/s3.conf"
_GOOD_CIPHER = re.compile(r"^(ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)|TLS_.*)$")
_SIZE = re.compile(r"^(\d+)([kKmMgG]?)$")
_TIME = re.compile(r"^(\d+)(ms|s|m|h|d)?$")


def _ssl_servers(d: Deployment) -> list[Server]:
    return [s for s in d.nginx.servers if s.ssl]


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


def _vhost(d: Deployment, env_key: str) -> list[Server]:
    origin = d.origin(env_key)
    return d.nginx.servers_for(origin.host, origin.port) if origin else []


@GROUP.check(
    "NGINX-TLS-PROTOCOLS",
    title="TLS servers allow TLSv1.2 and TLSv1.3 only",
    fix="ssl_protocols TLSv1.2 TLSv1.3;",
    faults=[
        Edit(APP, "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;", 1),
        Edit(S3, "    ssl_protocols TLSv1.2 TLSv1.3;\n", ""),
    ],
)
def tls_protocols(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        directive = s.first("ssl_protocols")
        if directive is None:
            yield Finding("no ssl_protocols (the Nginx default still depends on the build)", s.where)
        elif set(directive.args) - {"TLSv1.2", "TLSv1.3"}:
            yield Finding(
                f"ssl_protocols allows {' '.join(sorted(set(directive.args) - {'TLSv1.2', 'TLSv1.3'}))}",
                directive.where,
            )


@GROUP.check(
    "NGINX-TLS-CIPHERS",
    title="TLS 1.2 ciphers are ECDHE with AES-GCM or ChaCha20 (Mozilla intermediate), client order preferred",
    fix="use the Mozilla intermediate ssl_ciphers list and ssl_prefer_server_ciphers off",
    faults=[
        Edit(S3, "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:", "ssl_ciphers AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256:"),
        Edit(APP, "ssl_prefer_server_ciphers off;", "ssl_prefer_server_ciphers on;"),
    ],
)
def tls_ciphers(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        directive = s.first("ssl_ciphers")
        if directive is None:
            yield Finding("no ssl_ciphers", s.where)
        else:
            weak = [c for c in directive.args[0].split(":") if c and not _GOOD_CIPHER.match(c)]
            if weak:
                yield Finding(f"ssl_ciphers includes {':'.join(weak)}", directive.where)
        prefer = s.first("ssl_prefer_server_ciphers")
        if prefer is not None and prefer.args[:1] == ("on",):
            yield Finding("ssl_prefer_server_ciphers on", prefer.where)


@GROUP.check(
    "NGINX-HSTS",
    title="TLS servers send Strict-Transport-Security max-age >= 63072000 with `always`",
    fix='add_header Strict-Transport-Security "max-age=63072000" always;',
    faults=[
        Edit(
            S3,
            'add_header Strict-Transport-Security "max-age=63072000" always;',
            'add_header Strict-Transport-Security "max-age=3600";',
        )
    ],
)
def hsts(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        headers = [h for h in s.get("add_header") if h.args and h.args[0].lower() == "strict-transport-security"]
        if not headers:
            yield Finding("no Strict-Transport-Security header", s.where)
            continue
        h = headers[0]
        match = re.search(r"max-age=(\d+)", h.args[1] if len(h.args) > 1 else "")
        if not match or int(match.group(1)) < 63072000:
            yield Finding(f"HSTS {h.args[1:2]} has max-age below 63072000", h.where)
        if "always" not in h.args[2:]:
            yield Finding("HSTS without `always` (missing on error answers)", h.where)
        for loc in s.locations:
            if loc.get("add_header") and not any(
                a.args and a.args[0].lower() == "strict-transport-security" for a in loc.get("add_header")
            ):
                yield Finding(
                    f"location {loc.match} has its own add_header, which drops HSTS", loc.get("add_header")[0].where
                )


@GROUP.check(
    "NGINX-HTTP-REDIRECT",
    title="every public name answers plain http with a 301 to https",
    fix="add a `listen 80` server for the name with `return 301 https://$host$request_uri;`",
    faults=[
        Edit(APP, "return 301 https://$host$request_uri;", "return 302 https://$host$request_uri;"),
        Edit(
            S3, "    return 301 https://$host$request_uri;\n", "    location / { proxy_pass http://127.0.0.1:29000; }\n"
        ),
    ],
)
def http_redirect(d: Deployment) -> Iterator[Finding]:
    names = {n for s in _ssl_servers(d) for n in s.names}
    for name in sorted(names):
        plain = [s for s in d.nginx.servers_for(name) if not s.ssl]
        if not plain:
            yield Finding(f"{name} has no port-80 server", d.nginx.servers_for(name)[0].where)
            continue
        for s in plain:
            ret = s.first("return")
            if ret is None or ret.args[0] != "301" or not ret.args[1:2] or not ret.args[1].startswith("https://"):
                yield Finding(f"{name} on port 80 does not 301 to https", (ret or s).where)


@GROUP.check(
    "NGINX-FORWARDED",
    title="every proxied location forwards Host, X-Forwarded-For and X-Forwarded-Proto",
    fix="proxy_set_header Host $host (or $http_host), X-Forwarded-For $proxy_add_x_forwarded_for, "
    "X-Forwarded-Proto $scheme; without the proto, Logto's discovery turns http:// and sign-in fails",
    faults=[
        # Logto core's location (the console's has its own): the header line after its X-Forwarded-For.
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
        Edit(APP, "        proxy_set_header Host $host;\n", ""),
    ],
)
def forwarded(d: Deployment) -> Iterator[Finding]:
    for s in d.nginx.servers:
        for loc in s.proxy_locations():
            for header, allowed in (
                ("Host", ("$host", "$http_host")),
                ("X-Forwarded-For", ("$proxy_add_x_forwarded_for",)),
                ("X-Forwarded-Proto", ("$scheme", "https")),
            ):
                value = s.header(loc, header)
                if value not in allowed:
                    shown = "not set" if value is None else f"set to {value}"
                    yield Finding(
                        f"{s.names[0] if s.names else '?'} location {loc.match}: {header} {shown}",
                        f"{s.file}:{loc.line}",
                    )


@GROUP.check(
    "NGINX-HOST-PORT",
    title="vhosts on a non-default port keep the port in Host ($http_host)",
    fix="proxy_set_header Host $http_host; ($host drops the port: Logto stops matching ADMIN_ENDPOINT and the "
    "console loops to /unknown-session)",
    faults=[Edit(AUTH, "        proxy_set_header Host $http_host;\n", "        proxy_set_header Host $host;\n")],
)
def host_port(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        if s.ports <= {443}:
            continue
        for loc in s.proxy_locations():
            if s.header(loc, "Host") != "$http_host":
                yield Finding(
                    f"port {sorted(s.ports)} location {loc.match}: Host is {s.header(loc, 'Host')}",
                    f"{s.file}:{loc.line}",
                )


@GROUP.check(
    "NGINX-APP-STREAMING",
    title="the app vhost streams: proxy_buffering off, X-Accel-Buffering honoured, long read timeout",
    fix="proxy_buffering off; proxy_read_timeout 600s; and never `proxy_ignore_headers X-Accel-Buffering`",
    faults=[
        Edit(
            APP, "    proxy_buffering off;\n", "    proxy_buffering on;\n    proxy_ignore_headers X-Accel-Buffering;\n"
        ),
        Edit(APP, "proxy_read_timeout 600s;", "proxy_read_timeout 30s;"),
    ],
)
def app_streaming(d: Deployment) -> Iterator[Finding]:
    for s in _vhost(d, "APP_URL"):
        for loc in s.proxy_locations():
            buffering = s.effective(loc, "proxy_buffering")
            ignore = [i for i in s.effective(loc, "proxy_ignore_headers") if "X-Accel-Buffering" in i.args]
            where = f"{s.file}:{loc.line}"
            if not buffering or buffering[0].args[:1] != ("off",):
                if ignore:
                    yield Finding(
                        "proxy_buffering on and X-Accel-Buffering ignored: chat answers arrive in one block",
                        ignore[0].where,
                    )
                else:
                    yield Finding(
                        "proxy_buffering is not off for the chat stream", buffering[0].where if buffering else where
                    )
            elif ignore:
                yield Finding("proxy_ignore_headers X-Accel-Buffering", ignore[0].where)
            timeout = s.effective(loc, "proxy_read_timeout")
            if not timeout or _seconds(timeout[0].args[0]) < 300:
                yield Finding(
                    f"proxy_read_timeout {timeout[0].args[0] if timeout else '60s (default)'} < 300s: slow "
                    "model answers are cut",
                    timeout[0].where if timeout else where,
                )


@GROUP.check(
    "NGINX-BODY-SIZE",
    title="the app vhost accepts uploads (client_max_body_size >= 50m) and the S3 vhost any size (0)",
    fix="client_max_body_size 100m; on the app vhost and 0 on the S3 vhost (the default 1m answers 413)",
    faults=[
        Edit(APP, "    client_max_body_size 100m;\n", ""),
        Edit(S3, "client_max_body_size 0;", "client_max_body_size 10m;"),
    ],
)
def body_size(d: Deployment) -> Iterator[Finding]:
    for key, minimum in (("APP_URL", 50 * 1024**2), ("S3_ENDPOINT", 0)):
        for s in _vhost(d, key):
            for loc in s.proxy_locations():
                size = s.effective(loc, "client_max_body_size")
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
        Edit(S3, "        proxy_set_header Host $http_host;\n", "        proxy_set_header Host minio:9000;\n"),
        Edit(S3, "    proxy_request_buffering off;\n", ""),
        Edit(S3, "    location / {\n", "    location / {\n        rewrite ^/s3/(.*)$ /$1 break;\n"),
    ],
)
def s3_proxy(d: Deployment) -> Iterator[Finding]:
    for s in _vhost(d, "S3_ENDPOINT"):
        if s.first("ignore_invalid_headers") is None or s.first("ignore_invalid_headers").args[:1] != ("off",):
            yield Finding("ignore_invalid_headers is not off", s.where)
        for loc in s.proxy_locations():
            where = f"{s.file}:{loc.line}"
            if s.header(loc, "Host") != "$http_host":
                yield Finding(
                    f"Host is {s.header(loc, 'Host')}, not $http_host: presigned URLs fail with SignatureDoesNotMatch",
                    where,
                )
            for name in ("proxy_buffering", "proxy_request_buffering"):
                value = s.effective(loc, name)
                if not value or value[0].args[:1] != ("off",):
                    yield Finding(f"{name} is not off", value[0].where if value else where)
            for rw in loc.get("rewrite") + s.get("rewrite"):
                yield Finding("a rewrite changes the signed path", rw.where)


@GROUP.check(
    "NGINX-AUTHORIZATION",
    title="the app vhost passes Authorization through (NextAuth's adapter calls APP_URL with a bearer token)",
    fix='remove `proxy_set_header Authorization ""` (or any rewrite of Authorization) from the app vhost',
    faults=[
        Edit(
            APP,
            "        proxy_http_version 1.1;\n",
            '        proxy_http_version 1.1;\n        proxy_set_header Authorization "";\n',
        )
    ],
)
def authorization(d: Deployment) -> Iterator[Finding]:
    for s in _vhost(d, "APP_URL"):
        for loc in s.proxy_locations():
            value = s.header(loc, "Authorization")
            if value is not None and value != "$http_authorization":
                yield Finding(f"location {loc.match} sets Authorization to {value!r}", f"{s.file}:{loc.line}")


@GROUP.check(
    "NGINX-ADMIN-ROUTE",
    title="/admin on the auth name leads to the Logto console at LOGTO_ADMIN_ENDPOINT",
    fix="location = /admin { return 301 <LOGTO_ADMIN_ENDPOINT>/console; } on the auth vhost",
    faults=[Edit(AUTH, "    location = /admin {\n        return 301", "    location = /nothing {\n        return 301")],
)
def admin_route(d: Deployment) -> Iterator[Finding]:
    admin = d.env.get("LOGTO_ADMIN_ENDPOINT")
    servers = _vhost(d, "LOGTO_ENDPOINT")
    if not servers or not admin:
        return
    for s in servers:
        targets = [
            loc.get("return")[0]
            for loc in s.locations
            if loc.match in ("= /admin", "/admin", "^~ /admin") and loc.get("return")
        ]
        if not targets:
            yield Finding("no /admin location on the auth vhost", s.where)
        elif not targets[0].args[-1].startswith(admin.rstrip("/") + "/console"):
            yield Finding(f"/admin leads to {targets[0].args[-1]}, not {admin}/console", targets[0].where)


@GROUP.check(
    "NGINX-CERTIFICATE",
    title="every TLS server names a certificate and its key",
    fix="ssl_certificate and ssl_certificate_key for the server's name (Let's Encrypt: /etc/letsencrypt/live/NAME/)",
    faults=[Edit(APP, "    ssl_certificate_key /etc/letsencrypt/live/lobe.example.com/privkey.pem;\n", "")],
)
def certificate(d: Deployment) -> Iterator[Finding]:
    for s in _ssl_servers(d):
        for name in ("ssl_certificate", "ssl_certificate_key"):
            if s.first(name) is None:
                yield Finding(f"{s.names[0] if s.names else '?'}: no {name}", s.where)
