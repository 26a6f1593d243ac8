"""Cross-file consistency: the env URLs, the Compose services and the Nginx vhosts must describe one stack."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Edit, SetEnv
from lobestack.checks.registry import Finding, Group
from lobestack.deployment import Deployment
from lobestack.deployment.model import Origin
from lobestack.deployment.nginx import upstream

GROUP = Group("XREF", layer="static", title="Cross-file consistency")

COMPOSE = "docker-compose.yml"
# Which container port each public URL must reach, by the env key that names the URL.
ROUTES = {
    "APP_URL": ("lobe", 3210),
    "LOGTO_ENDPOINT": ("logto", 3001),
    "LOGTO_ADMIN_ENDPOINT": ("logto", 3002),
    "S3_ENDPOINT": ("minio", 9000),
}


@GROUP.check(
    "XREF-ISSUER",
    title="AUTH_LOGTO_ISSUER is exactly LOGTO_ENDPOINT + /oidc",
    fix="set AUTH_LOGTO_ISSUER=<LOGTO_ENDPOINT>/oidc; Auth.js compares it with discovery's issuer string "
    "(a trailing slash already fails)",
    faults=[
        SetEnv({"AUTH_LOGTO_ISSUER": "https://auth.example.com"}),
        SetEnv({"AUTH_LOGTO_ISSUER": "https://login.example.com/oidc"}),
    ],
)
def issuer(d: Deployment) -> Iterator[Finding]:
    endpoint, issuer_url = d.env.get("LOGTO_ENDPOINT"), d.env.get("AUTH_LOGTO_ISSUER")
    if endpoint and issuer_url and issuer_url != endpoint + "/oidc":
        yield Finding(
            f"AUTH_LOGTO_ISSUER {issuer_url!r} != LOGTO_ENDPOINT + '/oidc' {endpoint + '/oidc'!r}",
            d.env.where("AUTH_LOGTO_ISSUER"),
        )


@GROUP.check(
    "XREF-NEXTAUTH-URL",
    title="NEXTAUTH_URL is APP_URL's origin + /api/auth",
    fix="set NEXTAUTH_URL=<APP_URL>/api/auth; otherwise sign-in redirects to 0.0.0.0 or an internal host",
    faults=[
        SetEnv({"NEXTAUTH_URL": "http://0.0.0.0:3210/api/auth"}),
        SetEnv({"NEXTAUTH_URL": "https://lobe.example.com"}),
    ],
)
def nextauth_url(d: Deployment) -> Iterator[Finding]:
    app = d.origin("APP_URL")
    value = d.env.get("NEXTAUTH_URL")
    if app and value and value != f"{app}/api/auth":
        yield Finding(f"NEXTAUTH_URL {value!r} != {str(app) + '/api/auth'!r}", d.env.where("NEXTAUTH_URL"))


@GROUP.check(
    "XREF-ADMIN-ORIGIN",
    title="Logto's ADMIN_ENDPOINT is a different origin from its ENDPOINT, over https",
    fix="give the console its own origin (lobestack: https://<auth name>:8443); on one origin the admin tenant "
    "shadows the default one: invalid_client at sign-in, 401 in the console",
    faults=[
        SetEnv({"LOGTO_ADMIN_ENDPOINT": "https://auth.example.com"}),
        SetEnv({"LOGTO_ADMIN_ENDPOINT": "https://auth.example.com/console"}),
        SetEnv({"LOGTO_ADMIN_ENDPOINT": "http://auth.example.com:8443"}),
    ],
)
def admin_origin(d: Deployment) -> Iterator[Finding]:
    core, admin = d.origin("LOGTO_ENDPOINT"), d.origin("LOGTO_ADMIN_ENDPOINT")
    if core is None or admin is None:
        return
    if core == admin:
        yield Finding(f"LOGTO_ADMIN_ENDPOINT and LOGTO_ENDPOINT are both {core}", d.env.where("LOGTO_ADMIN_ENDPOINT"))
    if admin.scheme != "https":
        yield Finding(
            "the admin console is served over plain http (its sign-in needs crypto.subtle)",
            d.env.where("LOGTO_ADMIN_ENDPOINT"),
        )


@GROUP.check(
    "XREF-SERVER-NAMES",
    title="every public URL (app, issuer, admin, S3) has an Nginx TLS server for its host and port",
    fix="render the site configs for the same names (lobestack init), or fix server_name / listen",
    faults=[
        Edit("nginx/app.conf", "server_name lobe.example.com;", "server_name chat.example.com;", count=2),
        Edit("nginx/auth.conf", "8443 ssl http2;", "9443 ssl http2;", count=2),
    ],
)
def server_names(d: Deployment) -> Iterator[Finding]:
    for key in ROUTES:
        origin = d.origin(key)
        if origin is None:
            continue
        servers = [s for s in d.nginx.servers_for(origin.host, origin.port) if s.ssl]
        if not servers:
            yield Finding(
                f"{key} {origin} is served by no TLS server_name {origin.host} listening on {origin.port}",
                d.env.where(key),
            )


@GROUP.check(
    "XREF-UPSTREAMS",
    title="each vhost proxies to the published host port of the service behind its URL",
    fix="point proxy_pass at 127.0.0.1:<published port> of the right service (lobe 3210, logto 3001 core / "
    "3002 admin, minio 9000)",
    faults=[
        Edit("nginx/auth.conf", "proxy_pass http://127.0.0.1:23002;", "proxy_pass http://127.0.0.1:23001;"),
        Edit(COMPOSE, '"127.0.0.1:23210:3210"', '"127.0.0.1:23211:3210"'),
    ],
)
def upstreams(d: Deployment) -> Iterator[Finding]:
    for key, (role, container_port) in ROUTES.items():
        origin = d.origin(key)
        service = getattr(d, role)
        if origin is None or service is None:
            continue
        published = {p.host_port for p in service.ports if p.container_port == container_port}
        for s in (s for s in d.nginx.servers_for(origin.host, origin.port) if s.ssl):
            for loc in s.proxy_locations():
                target = upstream(loc)
                if target is None:
                    continue
                host, port = target
                if host in ("127.0.0.1", "localhost", "::1"):
                    ok = port in published
                else:  # an upstream by service name (Nginx inside the compose network)
                    ok = host == service.name and port == container_port
                if not ok:
                    want = ", ".join(f"127.0.0.1:{p}" for p in sorted(x for x in published if x)) or "(not published)"
                    yield Finding(
                        f"{key} {origin} location {loc.match} proxies to {host}:{port}; service "
                        f"{service.name}:{container_port} is published at {want}",
                        f"{s.file}:{loc.line}",
                    )


@GROUP.check(
    "XREF-CORS-ORIGIN",
    title="MinIO's CORS origin is APP_URL's origin, scheme included",
    fix="MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL} on the minio service (browsers upload from the app origin)",
    faults=[
        Edit(
            COMPOSE,
            "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}",
            "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_DOMAIN}",
        ),
        Edit(COMPOSE, "      MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}\n", ""),
    ],
)
def cors_origin(d: Deployment) -> Iterator[Finding]:
    if d.minio is None:
        return
    app = d.origin("APP_URL")
    value = d.minio.environment.get("MINIO_API_CORS_ALLOW_ORIGIN")
    where = d.compose.where(d.minio, "environment")
    if value is None:
        yield Finding(f"service {d.minio.name} sets no MINIO_API_CORS_ALLOW_ORIGIN", where)
        return
    allowed = [v.strip() for v in value.split(",")]
    if "*" in allowed:
        yield Finding("MINIO_API_CORS_ALLOW_ORIGIN is *: any site can drive uploads", where)
    elif app and str(app) not in allowed:
        yield Finding(f"MINIO_API_CORS_ALLOW_ORIGIN {value!r} does not include {str(app)!r}", where)


@GROUP.check(
    "XREF-S3-PUBLIC",
    title="S3_ENDPOINT and S3_PUBLIC_DOMAIN are served by the S3 vhost, distinct from the app",
    fix="point S3_ENDPOINT and S3_PUBLIC_DOMAIN at https://<S3 name> (the browser uploads and reads there); an "
    "internal URL like http://minio:9000 is unreachable from the browser",
    faults=[SetEnv({"S3_ENDPOINT": "http://minio:9000"}), SetEnv({"S3_PUBLIC_DOMAIN": "https://files.example.com"})],
)
def s3_public(d: Deployment) -> Iterator[Finding]:
    endpoint = d.origin("S3_ENDPOINT")
    for key in ("S3_ENDPOINT", "S3_PUBLIC_DOMAIN"):
        origin = d.origin(key)
        if origin is None:
            continue
        if not [s for s in d.nginx.servers_for(origin.host, origin.port) if s.ssl]:
            yield Finding(f"{key} {origin} has no TLS vhost: browsers cannot reach it", d.env.where(key))
        if origin == d.origin("APP_URL"):
            yield Finding(f"{key} is the app origin; S3 needs its own vhost", d.env.where(key))
    public = d.origin("S3_PUBLIC_DOMAIN")
    if (
        endpoint
        and public
        and isinstance(public, Origin)
        and public != endpoint
        and d.env.get("S3_SET_ACL", "1") == "1"
    ):
        yield Finding(
            f"S3_PUBLIC_DOMAIN {public} differs from S3_ENDPOINT {endpoint}: public reads go to another host",
            d.env.where("S3_PUBLIC_DOMAIN"),
        )


@GROUP.check(
    "XREF-S3-ACL",
    title="with S3_SET_ACL=1 the bucket gets an anonymous-read policy (minio-init)",
    fix="keep the minio-init service and its `mc anonymous set download` step (or set S3_SET_ACL=0 for "
    "presigned reads)",
    faults=[Edit("minio/init.sh", '  mc anonymous set download "local/$S3_BUCKET"\n', "  true\n")],
)
def s3_acl(d: Deployment) -> Iterator[Finding]:
    if d.env.get("S3_SET_ACL", "1") != "1":
        return
    text = d.init_script or ""
    init_jobs = [s for s in d.compose.services.values() if s.one_shot and "minio-init" in s.start_command]
    if not init_jobs:
        yield Finding("no one-shot minio-init service that runs minio-init.sh", COMPOSE)
    elif "mc anonymous set download" not in text:
        yield Finding(
            "minio/init.sh sets no anonymous-read policy; files at S3_PUBLIC_DOMAIN answer 403", "minio/init.sh"
        )
