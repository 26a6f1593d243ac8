"""Cross-file consistency: the URLs the containers get, the Compose services and the Nginx vhosts must describe one
stack. Every check judges what the containers really get (their effective environment), not the `.env` lines that
are supposed to feed it, and the server Nginx really picks for each public name and port."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lobestack.checks.faults import AddFile, Edit, SetEnv, fault, passes
from lobestack.checks.registry import EXPOSURE, CheckSkipped, Finding, Group
from lobestack.checks.static.applies import cannot_judge, minio_of, nginx_of
from lobestack.deployment import Deployment
from lobestack.deployment.compose import Service
from lobestack.deployment.limits import read_text
from lobestack.deployment.model import join_url

GROUP = Group("XREF", layer="static", title="Cross-file consistency")

COMPOSE = "docker-compose.yml"
# Which container port each public URL must reach: (service role, variable of that role's container) -> port.
ROUTES = {
    ("lobe", "APP_URL"): ("lobe", 3210),
    ("logto", "ENDPOINT"): ("logto", 3001),
    ("logto", "ADMIN_ENDPOINT"): ("logto", 3002),
    ("lobe", "S3_ENDPOINT"): ("minio", 9000),
}
_ISSUER_LINE = "AUTH_LOGTO_ISSUER: ${AUTH_LOGTO_ISSUER:?set AUTH_LOGTO_ISSUER in .env}"
_OLD_APP_SERVER = (
    "server {\n    listen 443 ssl;\n    listen [::]:443 ssl;\n    server_name lobe.example.com;\n"
    "    ssl_certificate /etc/letsencrypt/live/lobe.example.com/fullchain.pem;\n"
    "    ssl_certificate_key /etc/letsencrypt/live/lobe.example.com/privkey.pem;\n"
    "    location / {\n        proxy_pass http://127.0.0.1:3000;\n    }\n}\n"
)


@GROUP.check(
    "XREF-ISSUER",
    title="LobeChat's AUTH_LOGTO_ISSUER is exactly Logto's ENDPOINT + /oidc",
    fix="set AUTH_LOGTO_ISSUER=<LOGTO_ENDPOINT>/oidc (and keep docker-compose.yml passing it through unchanged); "
    "Auth.js compares it with discovery's issuer string (a trailing slash already fails)",
    faults=[
        fault(SetEnv({"AUTH_LOGTO_ISSUER": "https://auth.example.com"}), expect="AUTH_LOGTO_ISSUER 'https://auth"),
        fault(SetEnv({"AUTH_LOGTO_ISSUER": "https://login.example.com/oidc"}), expect="'https://login.example.com"),
        # .env is right; the compose file feeds the container another key.
        fault(
            Edit(COMPOSE, _ISSUER_LINE, "AUTH_LOGTO_ISSUER: ${LOGTO_ENDPOINT}"),
            expect="AUTH_LOGTO_ISSUER 'https://auth.example.com' (from .env LOGTO_ENDPOINT) != Logto's ENDPOINT",
        ),
    ],
    passes=[
        passes(
            Edit(COMPOSE, _ISSUER_LINE, "AUTH_LOGTO_ISSUER: ${LOGTO_ENDPOINT}/oidc"),
            why="the issuer built from LOGTO_ENDPOINT in the compose file",
        ),
        passes(
            SetEnv({"LOGTO_ENDPOINT": "https://auth.example.com/"}),
            why="Logto's ENDPOINT with a trailing slash: its issuer is still https://auth.example.com/oidc",
        ),
    ],
    impact="breaks",
)
def issuer(d: Deployment) -> Iterator[Finding]:
    endpoint, issuer_url = d.auth_env("ENDPOINT"), d.app_env("AUTH_LOGTO_ISSUER")
    want = join_url(endpoint, "oidc")  # what Logto publishes as its issuer, whatever ENDPOINT's trailing slash
    if endpoint and issuer_url and issuer_url != want:
        yield Finding(
            f"AUTH_LOGTO_ISSUER {issuer_url!r}{d.source_of(d.lobe, 'AUTH_LOGTO_ISSUER')} != Logto's ENDPOINT + "
            f"'/oidc' {want!r}",
            d.where_var(d.lobe, "AUTH_LOGTO_ISSUER"),
        )


@GROUP.check(
    "XREF-NEXTAUTH-URL",
    title="LobeChat's NEXTAUTH_URL is its APP_URL's origin + /api/auth",
    fix="set NEXTAUTH_URL=<APP_URL>/api/auth; otherwise sign-in redirects to 0.0.0.0 or an internal host",
    faults=[
        fault(SetEnv({"NEXTAUTH_URL": "http://0.0.0.0:3210/api/auth"}), expect="NEXTAUTH_URL 'http://0.0.0.0:3210"),
        fault(
            SetEnv({"NEXTAUTH_URL": "https://lobe.example.com"}), expect="NEXTAUTH_URL 'https://lobe.example.com' !="
        ),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE, "NEXTAUTH_URL: ${NEXTAUTH_URL:?set NEXTAUTH_URL in .env}", "NEXTAUTH_URL: ${APP_URL}/api/auth"
            ),
            why="built from APP_URL in the compose file",
        )
    ],
    impact="breaks",
)
def nextauth_url(d: Deployment) -> Iterator[Finding]:
    app = d.origin_of(d.lobe, "APP_URL")
    value = d.app_env("NEXTAUTH_URL")
    if app and value and value != f"{app}/api/auth":
        yield Finding(
            f"NEXTAUTH_URL {value!r}{d.source_of(d.lobe, 'NEXTAUTH_URL')} != {str(app) + '/api/auth'!r}",
            d.where_var(d.lobe, "NEXTAUTH_URL"),
        )


@GROUP.check(
    "XREF-ADMIN-ORIGIN",
    title="Logto's ADMIN_ENDPOINT is a different origin from its ENDPOINT, over https",
    fix="give the console its own origin (lobestack: https://<auth name>:8443); on one origin the admin tenant "
    "shadows the default one: invalid_client at sign-in, 401 in the console",
    faults=[
        fault(SetEnv({"LOGTO_ADMIN_ENDPOINT": "https://auth.example.com"}), expect="are both https://auth.example.com"),
        fault(SetEnv({"LOGTO_ADMIN_ENDPOINT": "https://auth.example.com/console"}), expect="are both"),
        fault(
            SetEnv({"LOGTO_ADMIN_ENDPOINT": "http://auth.example.com:8443"}),
            expect="the admin console is served over plain http",
        ),
    ],
    passes=[passes(SetEnv({"LOGTO_ADMIN_ENDPOINT": "https://admin.example.com"}), why="its own name on 443")],
    impact="breaks",
)
def admin_origin(d: Deployment) -> Iterator[Finding]:
    core, admin = d.origin_of(d.logto, "ENDPOINT"), d.origin_of(d.logto, "ADMIN_ENDPOINT")
    if core is None or admin is None:
        return
    if core == admin:
        yield Finding(f"ADMIN_ENDPOINT and ENDPOINT are both {core}", d.where_var(d.logto, "ADMIN_ENDPOINT"))
    if admin.scheme != "https":
        yield Finding(
            "the admin console is served over plain http (its sign-in needs crypto.subtle)",
            d.where_var(d.logto, "ADMIN_ENDPOINT"),
        )


@GROUP.check(
    "XREF-SERVER-NAMES",
    title="every public URL (app, issuer, admin, S3) reaches an Nginx TLS server that carries its name on its port",
    fix="render the site configs for the same names (lobestack init), or fix server_name / listen",
    faults=[
        fault(
            Edit("nginx/app.conf", "server_name lobe.example.com;", "server_name chat.example.com;", count=2),
            expect="APP_URL https://lobe.example.com is served by no TLS server_name lobe.example.com",
        ),
        fault(
            Edit("nginx/auth.conf", "8443 ssl http2;", "9443 ssl http2;", count=2),
            expect="listening on 8443",
        ),
    ],
    passes=[
        passes(
            Edit("nginx/s3.conf", "server_name s3.example.com;", "server_name *.example.com;", count=2),
            why="a wildcard name",
        )
    ],
    impact="breaks",
)
def server_names(d: Deployment) -> Iterator[Finding]:
    nginx = nginx_of(d)
    for (role, key), (target, _) in ROUTES.items():
        service = getattr(d, role)
        origin = d.origin_of(service, key)
        if origin is None or getattr(d, target) is None:  # no MinIO: S3 is external, not behind this proxy
            continue
        servers = [s for s in nginx.named_servers_for(origin.host, origin.port) if s.ssl]
        if not servers:
            yield Finding(
                f"{key} {origin} is served by no TLS server_name {origin.host} listening on {origin.port}",
                d.where_var(service, key),
            )


@GROUP.check(
    "XREF-UPSTREAMS",
    title="the server Nginx picks for each public URL proxies to the published host port of the service behind it",
    fix="point proxy_pass at 127.0.0.1:<published port> of the right service (lobe 3210, logto 3001 core / "
    "3002 admin, minio 9000), and remove other servers that claim the same name first",
    faults=[
        fault(
            Edit("nginx/auth.conf", "proxy_pass http://127.0.0.1:23002;", "proxy_pass http://127.0.0.1:23001;"),
            expect="ADMIN_ENDPOINT https://auth.example.com:8443 location / proxies to 127.0.0.1:23001",
        ),
        fault(
            Edit(COMPOSE, '"127.0.0.1:23210:3210"', '"127.0.0.1:23211:3210"'),
            expect="published at 127.0.0.1:23211",
        ),
        # An older site file, first in name order, claims the app's name: Nginx uses it and ignores app.conf's.
        fault(
            AddFile("nginx/00-old.conf", _OLD_APP_SERVER),
            expect="APP_URL https://lobe.example.com location / proxies to 127.0.0.1:3000",
        ),
    ],
    passes=[
        passes(
            AddFile("nginx/zz-old.conf", _OLD_APP_SERVER),
            why="a later file repeating the app's name (Nginx keeps the first server for a name)",
        ),
        passes(
            Edit("nginx/s3.conf", "server_name s3.example.com;", "server_name files.example.com;", count=2),
            why="S3's name on no server: XREF-SERVER-NAMES' finding, not re-reported through the default server",
        ),
    ],
    impact="breaks",
)
def upstreams(d: Deployment) -> Iterator[Finding]:
    nginx = nginx_of(d)
    shared = d.origin_of(d.logto, "ENDPOINT") == d.origin_of(d.logto, "ADMIN_ENDPOINT")
    judged: list[str] = []
    for (role, key), (target_role, container_port) in ROUTES.items():
        origin = d.origin_of(getattr(d, role), key)
        service = getattr(d, target_role)
        if origin is None or service is None:
            continue
        if shared and key in ("ENDPOINT", "ADMIN_ENDPOINT"):  # one origin for two ports: XREF-ADMIN-ORIGIN's finding
            continue
        # only servers that carry the name: a missing one is XREF-SERVER-NAMES' finding, not the default server's
        servers = [s for s in nginx.named_servers_for(origin.host, origin.port) if s.ssl]
        if servers:
            judged.append(key)
        published = {p.host_port for p in service.ports if p.container_port == container_port}
        for s in servers:
            for loc in s.proxy_locations():
                target = loc.upstream()
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
                        f"{loc.file}:{loc.line}",
                    )
    if not judged:
        raise cannot_judge(
            "any public URL's upstream",
            "no server carries their names (XREF-SERVER-NAMES) or Logto's two share one origin (XREF-ADMIN-ORIGIN)",
        )


@GROUP.check(
    "XREF-CORS-ORIGIN",
    title="MinIO's CORS origin is LobeChat's APP_URL origin, scheme included",
    fix="MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL} on the minio service (browsers upload from the app origin); "
    "never `*`, and no empty entry (a trailing comma)",
    faults=[
        fault(
            Edit(
                COMPOSE,
                "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}",
                "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_DOMAIN}",
            ),
            expect="MINIO_API_CORS_ALLOW_ORIGIN 'lobe.example.com' does not include 'https://lobe.example.com'",
        ),
        fault(
            Edit(COMPOSE, "      MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}\n", ""),
            expect="sets no MINIO_API_CORS_ALLOW_ORIGIN",
        ),
        fault(
            Edit(
                COMPOSE,
                "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}",
                'MINIO_API_CORS_ALLOW_ORIGIN: "*"',
            ),
            expect="MINIO_API_CORS_ALLOW_ORIGIN is *",
        ),
        fault(
            Edit(
                COMPOSE,
                "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}",
                "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env},",
            ),
            expect="has an empty entry: MinIO rejects the list and allows every origin (*)",
        ),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}",
                "MINIO_API_CORS_ALLOW_ORIGIN: https://admin.example.com,${APP_URL}",
            ),
            why="a list that includes the app origin",
        )
    ],
    impact="breaks",
)
def cors_origin(d: Deployment) -> Iterator[Finding]:
    if d.minio is None:
        return
    app = d.origin_of(d.lobe, "APP_URL")
    value = d.minio.environment.get("MINIO_API_CORS_ALLOW_ORIGIN")
    where = d.where_var(d.minio, "MINIO_API_CORS_ALLOW_ORIGIN")
    if value is None:
        yield Finding(f"service {d.minio.name} sets no MINIO_API_CORS_ALLOW_ORIGIN", where)
        return
    allowed = [v.strip() for v in value.split(",")]
    if "*" in allowed:
        yield Finding("MINIO_API_CORS_ALLOW_ORIGIN is *: any site can drive uploads", where, impact=EXPOSURE)
    elif "" in value.split(","):  # MinIO: "invalid cors value", logged, and its default applies
        yield Finding(
            f"MINIO_API_CORS_ALLOW_ORIGIN {value!r} has an empty entry: MinIO rejects the list and allows every "
            "origin (*)",
            where,
            impact=EXPOSURE,
        )
    elif app and str(app) not in allowed:
        yield Finding(f"MINIO_API_CORS_ALLOW_ORIGIN {value!r} does not include {str(app)!r}", where)


@GROUP.check(
    "XREF-S3-PUBLIC",
    title="LobeChat's S3_ENDPOINT and S3_PUBLIC_DOMAIN are served by a TLS vhost, not the app's, and agree when "
    "files are public",
    fix="point S3_ENDPOINT and S3_PUBLIC_DOMAIN at https://<S3 name> (the browser uploads and reads there); an "
    "internal URL like http://minio:9000 is unreachable from the browser",
    faults=[
        fault(
            SetEnv({"S3_PUBLIC_DOMAIN": "http://minio:9000"}),
            expect="S3_PUBLIC_DOMAIN http://minio:9000 has no TLS vhost",
        ),
        fault(
            SetEnv({"S3_PUBLIC_DOMAIN": "https://files.example.com"}),
            expect="differs from S3_ENDPOINT https://s3.example.com: public reads go to another host",
        ),
        fault(
            SetEnv({"S3_ENDPOINT": "https://lobe.example.com", "S3_PUBLIC_DOMAIN": "https://lobe.example.com"}),
            expect="S3_ENDPOINT is the app origin",
        ),
    ],
    passes=[
        passes(SetEnv({"S3_PUBLIC_DOMAIN": "https://s3.example.com:443"}), why="the same origin, its port written out")
    ],
    impact="breaks",
)
def s3_public(d: Deployment) -> Iterator[Finding]:
    endpoint = d.origin_of(d.lobe, "S3_ENDPOINT")
    app = d.origin_of(d.lobe, "APP_URL")
    public = d.origin_of(d.lobe, "S3_PUBLIC_DOMAIN")
    for key in ("S3_ENDPOINT", "S3_PUBLIC_DOMAIN"):
        origin = d.origin_of(d.lobe, key)
        if origin is None:
            continue
        if origin == app:
            yield Finding(f"{key} is the app origin; S3 needs its own vhost", d.where_var(d.lobe, key))
    # S3_ENDPOINT's vhost is XREF-SERVER-NAMES' to report; S3_PUBLIC_DOMAIN's here, when it is another origin. With
    # no MinIO, S3 is external and its names are not this proxy's.
    unserved = (
        public is not None
        and public not in (endpoint, app)
        and d.minio is not None
        and d.nginx.read
        and not [s for s in d.nginx.named_servers_for(public.host, public.port) if s.ssl]
    )
    if unserved:
        yield Finding(
            f"S3_PUBLIC_DOMAIN {public} has no TLS vhost: browsers cannot reach it",
            d.where_var(d.lobe, "S3_PUBLIC_DOMAIN"),
        )
    # An external S3 serves public reads from its own host (a bucket's virtual host): only MinIO's must agree.
    if endpoint and public and public != endpoint and d.minio is not None and (d.app_env("S3_SET_ACL") or "1") == "1":
        yield Finding(
            f"S3_PUBLIC_DOMAIN {public} differs from S3_ENDPOINT {endpoint}: public reads go to another host",
            d.where_var(d.lobe, "S3_PUBLIC_DOMAIN"),
        )


@GROUP.check(
    "XREF-S3-ACL",
    title="with MinIO and S3_SET_ACL=1, the job that sets the bucket up gives it an anonymous-read policy, and "
    "LobeChat waits for it (where no job does it, the live S3-PUBLIC-READ judges)",
    fix="keep the minio-init service and its `mc anonymous set-json` step, anonymous s3:GetObject on the objects "
    "(or set S3_SET_ACL=0 for presigned reads)",
    faults=[
        fault(
            Edit("minio/init.sh", '  mc anonymous set-json /tmp/lobe-read.json "local/$S3_BUCKET"\n', "  true\n"),
            expect="minio/init.sh sets no anonymous-read policy",
        ),
        fault(
            Edit(COMPOSE, "      minio-init:\n        condition: service_completed_successfully\n", ""),
            expect="service minio-init sets the bucket up, but LobeChat does not wait for it",
        ),
    ],
    passes=[
        passes(
            Edit("minio/init.sh", '  mc anonymous set-json /tmp/lobe-read.json "local/$S3_BUCKET"\n', "  true\n"),
            SetEnv({"S3_SET_ACL": "0"}),
            why="presigned reads (S3_SET_ACL=0) need no anonymous policy",
        )
    ],
    impact="breaks",
)
def s3_acl(d: Deployment) -> Iterator[Finding]:
    minio = minio_of(d)
    if (d.app_env("S3_SET_ACL") or "1") != "1":
        return
    # Whatever sets the bucket up: a job of MinIO's images (server or mc) that runs a script or mc, beside the server.
    jobs = [
        s
        for s in d.compose.services.values()
        if s is not minio
        and (s.image_repo.rsplit("/", 1)[-1] in ("minio", "mc") or re.search(r"\bmc\s", s.start_command))
    ]
    if not jobs:
        raise CheckSkipped(
            f"no job beside {minio.name} sets the bucket up (it is done by hand, in MinIO's console): S3-PUBLIC-READ "
            "judges the bucket's policy on the running stack"
        )
    for job in jobs:
        if not job.one_shot:
            yield Finding(
                f"service {job.name} sets the bucket up, but LobeChat does not wait for it "
                "(depends_on: condition: service_completed_successfully)",
                d.compose.where(job),
            )
    # what the jobs run: their commands and the scripts mounted into them from the deployment (the bundle's
    # minio/init.sh among them), not their comments
    text = "\n".join([j.start_command for j in jobs] + [_mounted_scripts(d, j) for j in jobs])
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    if "mc anonymous set-json" not in text and "mc anonymous set download" not in text:
        bundled = d.init_script is not None
        yield Finding(
            f"{'minio/init.sh' if bundled else f'service {jobs[0].name}'} sets no anonymous-read policy; files at "
            "S3_PUBLIC_DOMAIN answer 403",
            "minio/init.sh" if bundled else d.compose.where(jobs[0]),
        )


def _mounted_scripts(d: Deployment, service: Service) -> str:
    """The text of the files of the deployment directory bind-mounted into a service (its set-up scripts)."""
    texts = []
    root = d.root.resolve()
    for mount in service.mounts:
        path = Path(mount.source)
        if mount.type == "bind" and path.is_file() and path.resolve().is_relative_to(root):
            texts.append(read_text(path, utf8=False))
    return "\n".join(texts)
