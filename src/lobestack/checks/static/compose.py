"""Compose policy: pinned images, loopback-only ports, health, restarts, init, isolation, and the start-up
commands the stack depends on. Every check reads the effective configuration (compose-go's merge of files,
anchors, extends, include and env_file), and judges every service, whichever profile starts it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lobestack.checks.faults import AddFile, Edit, fault, passes
from lobestack.checks.registry import CheckSkipped, Finding, Group
from lobestack.deployment import Deployment
from lobestack.deployment.compose import Service

GROUP = Group("COMPOSE", layer="static", title="Compose policy")

COMPOSE = "docker-compose.yml"
MINIO_NEWEST = "RELEASE.2025-04-22T22-12-26Z"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# Reverse proxies by the last part of their image's repository: their ports 80 and 443 are meant for the network.
_PROXIES = {"nginx", "caddy", "traefik", "haproxy", "envoy"}
_DIGEST = "sha256:" + "0123456789abcdef" * 4


def _long_running(d: Deployment) -> list[Service]:
    return [s for s in d.compose.services.values() if not s.one_shot]


@GROUP.check(
    "COMPOSE-IMAGE-PINNED",
    title="every image names an explicit version (a tag other than latest, or a digest)",
    fix="pin each image to a release tag (e.g. lobehub/lobe-chat-database:v1.143.3); an unpinned LobeChat once "
    "dropped its login UI on a routine pull",
    faults=[
        fault(Edit(COMPOSE, "image: svhd/logto:1.37.1", "image: svhd/logto:latest"), expect="is not pinned"),
        fault(Edit(COMPOSE, "image: postgres:17.5-bookworm", "image: postgres"), expect="'postgres' is not pinned"),
        # A service of an optional profile: Compose accepts it until the profile is enabled.
        fault(Edit(COMPOSE, "    image: ollama/ollama:0.6.8\n", ""), expect="service ollama has no image"),
    ],
    passes=[
        passes(Edit(COMPOSE, "image: postgres:17.5-bookworm", f"image: postgres@{_DIGEST}"), why="pinned by digest"),
        passes(
            Edit(COMPOSE, "  logto-db:\n    image: postgres:17.5-bookworm\n", "  logto-db:\n    image: ${PG_IMAGE}\n"),
            Edit(".env", "COMPOSE_PROJECT_NAME=", "PG_IMAGE=postgres:17.5-bookworm\nCOMPOSE_PROJECT_NAME="),
            why="the tag comes from .env",
        ),
    ],
    impact="advice",
)
def image_pinned(d: Deployment) -> Iterator[Finding]:
    for s in d.compose.services.values():
        if not s.image:
            if "build" not in s.spec:
                yield Finding(f"service {s.name} has no image", d.compose.where(s))
            continue
        if s.image_digest:
            continue
        if s.image_tag in (None, "", "latest", "main", "master", "stable"):
            yield Finding(f"service {s.name} image {s.image!r} is not pinned", d.compose.where(s, "image"))


@GROUP.check(
    "COMPOSE-MINIO-RELEASE",
    title=f"MinIO is a RELEASE tag not newer than {MINIO_NEWEST}",
    fix=f"use minio/minio:{MINIO_NEWEST}: later community builds removed most of the console",
    faults=[
        fault(
            Edit(COMPOSE, f"minio/minio:{MINIO_NEWEST}", "minio/minio:RELEASE.2025-05-24T17-08-30Z", count=2),
            expect="newer than",
        ),
        fault(Edit(COMPOSE, f"minio/minio:{MINIO_NEWEST}", "minio/minio:2025", count=2), expect="not a MinIO RELEASE"),
    ],
    passes=[
        passes(
            Edit(COMPOSE, f"minio/minio:{MINIO_NEWEST}", "minio/minio:RELEASE.2024-12-18T13-15-44Z", count=2),
            why="an older release",
        )
    ],
    impact="advice",
)
def minio_release(d: Deployment) -> Iterator[Finding]:
    for s in d.compose.by_image("minio/minio"):
        tag = s.image_tag or ""
        if not re.fullmatch(r"RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", tag):
            yield Finding(f"service {s.name} image {s.image!r} is not a MinIO RELEASE tag", d.compose.where(s, "image"))
        elif tag > MINIO_NEWEST:
            yield Finding(f"service {s.name} runs {tag}, newer than {MINIO_NEWEST}", d.compose.where(s, "image"))


@GROUP.check(
    "COMPOSE-LOBE-1X",
    title="LobeChat is the server-database edition on a pinned 1.x (NextAuth) release",
    fix="use lobehub/lobe-chat-database:v1.x.y; 2.x (lobehub/lobehub) replaced NextAuth with Better Auth and moved "
    "the Logto callback to /api/auth/oauth2/callback/logto",
    faults=[
        fault(
            Edit(COMPOSE, "lobehub/lobe-chat-database:v1.143.3", "lobehub/lobehub:v2.0.0"),
            expect="not the server-database edition",
        ),
        fault(
            Edit(COMPOSE, "lobehub/lobe-chat-database:v1.143.3", "lobehub/lobe-chat-database:v2.0.0"),
            expect="not a 1.x release",
        ),
        fault(
            Edit(COMPOSE, "lobehub/lobe-chat-database:v1.143.3", "example/chat:1.143.3"),
            expect="no LobeChat service",
        ),
    ],
    passes=[
        passes(
            Edit(COMPOSE, "lobehub/lobe-chat-database:v1.143.3", "docker.io/lobehub/lobe-chat-database:1.120.0"),
            why="a registry prefix and a tag without v",
        )
    ],
    impact="breaks",
)
def lobe_1x(d: Deployment) -> Iterator[Finding]:
    if d.lobe is None:
        yield Finding("no LobeChat service (image lobehub/lobe-chat-database) in the compose file", COMPOSE)
        return
    s = d.lobe
    if not s.image_repo.endswith("lobe-chat-database"):
        yield Finding(
            f"service {s.name} runs {s.image!r}, not the server-database edition", d.compose.where(s, "image")
        )
    elif not re.fullmatch(r"v?1\.\d+\.\d+", s.image_tag or ""):
        yield Finding(f"service {s.name} runs {s.image!r}, not a 1.x release", d.compose.where(s, "image"))


@GROUP.check(
    "COMPOSE-PORTS-LOOPBACK",
    title="every published port is bound to 127.0.0.1 (only the proxy in front faces the network)",
    fix='publish as "127.0.0.1:HOST:CONTAINER"; a bare "HOST:CONTAINER" listens on 0.0.0.0 and bypasses '
    "the host firewall through Docker's own iptables rules",
    faults=[
        fault(Edit(COMPOSE, '"127.0.0.1:29001:9001"', '"29001:9001"'), expect="publishes 9001 on 0.0.0.0:29001"),
        fault(Edit(COMPOSE, '"127.0.0.1:25435:5432"', '"0.0.0.0:25435:5432"'), expect="publishes 5432 on 0.0.0.0"),
        # A second file Compose reads by default adds a port the main file never mentions.
        fault(
            AddFile("docker-compose.override.yml", 'services:\n  minio:\n    ports:\n      - "9000:9000"\n'),
            expect="publishes 9000 on 0.0.0.0:9000",
        ),
        # A service that comes from an included file.
        fault(
            AddFile(
                "tools/adminer.yml",
                'services:\n  adminer:\n    image: adminer:4.8.1\n    init: true\n    ports: ["8080:8080"]\n',
            ),
            Edit(
                COMPOSE,
                "name: ${COMPOSE_PROJECT_NAME:-lobestack}\n",
                "name: ${COMPOSE_PROJECT_NAME:-lobestack}\ninclude:\n  - tools/adminer.yml\n",
            ),
            expect="service adminer publishes 8080 on 0.0.0.0:8080",
        ),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                '      - "127.0.0.1:29001:9001"\n',
                "      - {target: 9001, published: 29001, host_ip: 127.0.0.1}\n",
            ),
            why="long syntax",
        ),
        passes(Edit(COMPOSE, '"127.0.0.1:29001:9001"', '"[::1]:29001:9001"'), why="IPv6 loopback"),
        passes(
            AddFile(
                "docker-compose.override.yml",
                'services:\n  caddy:\n    image: caddy:2.8.4\n    init: true\n    ports: ["80:80", "443:443"]\n',
            ),
            why="the proxy in front, in Compose, publishes 80 and 443 on every address",
        ),
    ],
    impact="exposure",
)
def ports_loopback(d: Deployment) -> Iterator[Finding]:
    for s in d.compose.services.values():
        front = s.image_repo.rsplit("/", 1)[-1] in _PROXIES
        for p in s.ports:
            if front and p.container_port in (80, 443):
                continue  # the proxy in front (Caddy, Traefik, Nginx in Compose) is what faces the network
            if p.host_ip not in _LOOPBACK:
                shown = p.host_ip or "0.0.0.0"
                yield Finding(
                    f"service {s.name} publishes {p.container_port} on {shown}:{p.published or '(random)'}",
                    d.compose.where(s, "ports"),
                )


@GROUP.check(
    "COMPOSE-HEALTHCHECK",
    title="every long-running service has a healthcheck",
    fix="add a healthcheck (pg_isready, `mc ready local`, Logto /api/status, LobeChat /api/auth/providers) so "
    "depends_on can wait for it and `docker compose ps` tells the truth",
    faults=[
        fault(
            Edit(COMPOSE, '      test: ["CMD", "mc", "ready", "local"]\n', "      disable: true\n"),
            expect="service minio has no healthcheck",
        ),
        fault(
            Edit(COMPOSE, '      test: ["CMD", "ollama", "list"]\n', '      test: ["NONE"]\n'),
            expect="service ollama has no healthcheck",
        ),
        # The override file Compose reads by default switches it off.
        fault(
            AddFile("compose.override.yml", "services:\n  logto:\n    healthcheck:\n      disable: true\n"),
            expect="service logto has no healthcheck",
        ),
    ],
    passes=[
        passes(
            Edit(COMPOSE, '      test: ["CMD", "mc", "ready", "local"]\n', "      test: mc ready local\n"),
            why="a CMD-SHELL string",
        )
    ],
    impact="advice",
)
def healthcheck(d: Deployment) -> Iterator[Finding]:
    for s in _long_running(d):
        hc = s.spec.get("healthcheck")
        if not hc or hc.get("disable") or not hc.get("test") or hc.get("test") == ["NONE"]:
            yield Finding(f"service {s.name} has no healthcheck", d.compose.where(s))


@GROUP.check(
    "COMPOSE-DEPENDS-HEALTHY",
    title="depends_on waits for health (or for a one-shot job's success), not just for a start",
    fix="use `condition: service_healthy` (service_completed_successfully for minio-init)",
    faults=[
        fault(
            Edit(
                COMPOSE,
                "      logto-db:\n        condition: service_healthy",
                "      logto-db:\n        condition: service_started",
            ),
            expect="depends on logto-db with service_started",
        ),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                "      logto-db:\n        condition: service_healthy",
                "      logto-db:\n        condition: service_healthy\n        restart: true",
            ),
            why="restart: true beside the condition",
        )
    ],
    impact="advice",
)
def depends_healthy(d: Deployment) -> Iterator[Finding]:
    for s in d.compose.services.values():
        for dep, condition in s.depends_on.items():
            target = d.compose.services.get(dep)
            wanted = "service_completed_successfully" if target and target.one_shot else "service_healthy"
            if condition != wanted:
                yield Finding(
                    f"service {s.name} depends on {dep} with {condition}, not {wanted}",
                    d.compose.where(s, "depends_on"),
                )


@GROUP.check(
    "COMPOSE-RESTART",
    title="every long-running service restarts after a crash or reboot",
    fix="set `restart: unless-stopped`",
    faults=[
        fault(
            Edit(
                COMPOSE,
                "lobe-chat-database:v1.143.3\n    init: true\n    restart: unless-stopped\n",
                'lobe-chat-database:v1.143.3\n    init: true\n    restart: "no"\n',
            ),
            expect="service lobe has restart no",
        ),
        fault(
            Edit(
                COMPOSE,
                "    image: svhd/logto:1.37.1\n    init: true\n    restart: unless-stopped\n",
                "    image: svhd/logto:1.37.1\n    init: true\n",
            ),
            expect="service logto has restart (none)",
        ),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                "lobe-chat-database:v1.143.3\n    init: true\n    restart: unless-stopped\n",
                "lobe-chat-database:v1.143.3\n    init: true\n    restart: on-failure:5\n",
            ),
            why="on-failure with a retry count",
        )
    ],
    impact="advice",
)
def restart(d: Deployment) -> Iterator[Finding]:
    for s in _long_running(d):
        if s.restart not in ("unless-stopped", "always", "on-failure") and not str(s.restart).startswith("on-failure"):
            yield Finding(f"service {s.name} has restart {s.restart or '(none)'}", d.compose.where(s))


@GROUP.check(
    "COMPOSE-INIT",
    title="every service runs with `init: true` (signals reach the process; no 10 s stop timeout)",
    fix="add `init: true` to the service",
    faults=[
        fault(
            Edit(
                COMPOSE,
                "    image: pgvector/pgvector:0.8.0-pg17\n    init: true\n",
                "    image: pgvector/pgvector:0.8.0-pg17\n",
            ),
            expect="service lobe-db has no `init: true`",
        )
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                "    image: pgvector/pgvector:0.8.0-pg17\n    init: true\n",
                '    image: pgvector/pgvector:0.8.0-pg17\n    init: "true"\n',
            ),
            why='a quoted "true" (Compose casts it to a boolean)',
        )
    ],
    impact="advice",
)
def init(d: Deployment) -> Iterator[Finding]:
    for s in d.compose.services.values():
        if s.spec.get("init") is not True:
            yield Finding(f"service {s.name} has no `init: true`", d.compose.where(s))


@GROUP.check(
    "COMPOSE-ISOLATION",
    title="no service is privileged, on the host network or PID namespace, holds the Docker socket, or adds "
    "ALL / SYS_ADMIN capabilities",
    fix="remove privileged / network_mode: host / pid: host / the docker.sock mount / cap_add; no service here "
    "needs them",
    faults=[
        fault(
            Edit(
                COMPOSE,
                "    image: pgvector/pgvector:0.8.0-pg17\n",
                "    image: pgvector/pgvector:0.8.0-pg17\n    privileged: true\n",
            ),
            expect="service lobe-db is privileged",
        ),
        fault(
            Edit(
                COMPOSE,
                "      - minio-data:/data\n",
                "      - minio-data:/data\n      - /var/run/docker.sock:/var/run/docker.sock\n",
            ),
            expect="service minio mounts the Docker socket",
        ),
        fault(
            Edit(COMPOSE, "    networks: [internal]\n    deploy:\n", "    network_mode: host\n    deploy:\n"),
            expect="service ollama uses the host network",
        ),
        fault(
            Edit(COMPOSE, "    image: svhd/logto:1.37.1\n", "    image: svhd/logto:1.37.1\n    pid: host\n"),
            expect="service logto shares the host PID namespace",
        ),
        fault(
            Edit(
                COMPOSE,
                "    image: ollama/ollama:0.6.8\n",
                "    image: ollama/ollama:0.6.8\n    cap_add: [SYS_ADMIN]\n",
            ),
            expect="service ollama adds capabilities ['SYS_ADMIN']",
        ),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                "    image: ollama/ollama:0.6.8\n",
                "    image: ollama/ollama:0.6.8\n    cap_add: [NET_BIND_SERVICE]\n    privileged: false\n",
            ),
            why="a harmless capability and an explicit privileged: false",
        )
    ],
    impact="exposure",
)
def isolation(d: Deployment) -> Iterator[Finding]:
    for s in d.compose.services.values():
        if s.spec.get("privileged") is True:
            yield Finding(f"service {s.name} is privileged", d.compose.where(s, "privileged"))
        if str(s.spec.get("network_mode", "")) == "host":
            yield Finding(f"service {s.name} uses the host network", d.compose.where(s, "network_mode"))
        if str(s.spec.get("pid", "")) == "host":
            yield Finding(f"service {s.name} shares the host PID namespace", d.compose.where(s, "pid"))
        if any(m.source.endswith("docker.sock") for m in s.mounts):
            yield Finding(f"service {s.name} mounts the Docker socket", d.compose.where(s, "volumes"))
        caps = [str(c).upper().removeprefix("CAP_") for c in s.spec.get("cap_add") or []]
        if "ALL" in caps or "SYS_ADMIN" in caps:
            yield Finding(f"service {s.name} adds capabilities {caps}", d.compose.where(s, "cap_add"))


@GROUP.check(
    "COMPOSE-PGVECTOR",
    title="LobeChat's database image ships pgvector",
    fix="use pgvector/pgvector:<ver>-pg<major> for the LobeChat database; without it the migration fails with "
    '`extension "vector" is not available`',
    faults=[
        fault(
            Edit(COMPOSE, "image: pgvector/pgvector:0.8.0-pg17", "image: postgres:17.5-bookworm"),
            expect="which has no pgvector",
        ),
        fault(
            Edit(COMPOSE, "@lobe-db:5432/lobechat", "@db.internal:5432/lobechat"),
            expect="DATABASE_URL's host is not a compose service",
        ),
        fault(
            Edit(COMPOSE, "DATABASE_URL: postgresql://lobe:", "DATABASE_URL: lobe:"),
            expect="DATABASE_URL is not a URL scheme://user:password@host:port/db",
        ),
    ],
    passes=[
        passes(
            Edit(COMPOSE, "@lobe-db:5432/lobechat", "@lobe-db/lobechat?sslmode=disable"),
            why="no port, query options",
        )
    ],
    impact="breaks",
)
def pgvector(d: Deployment) -> Iterator[Finding]:
    if d.lobe is None:
        return
    url = d.lobe.environment.get("DATABASE_URL", "")
    match = _DB_URL.fullmatch(url)
    if match is None:
        # Never show the URL or a piece of it: its user info holds LOBE_DB_PASSWORD, and a password with `@` or
        # `/` is exactly what makes it unreadable.
        yield Finding(
            "DATABASE_URL is not a URL scheme://user:password@host:port/db (ENV-SECRET-SAFE says whether "
            "LOBE_DB_PASSWORD breaks it)",
            d.where_var(d.lobe, "DATABASE_URL"),
        )
        return
    db = d.compose.services.get(match.group("host"))
    if db is None:
        # The host is not shown either: a password such as `x@name/y` makes a piece of it read as the host.
        yield Finding("DATABASE_URL's host is not a compose service", d.where_var(d.lobe, "DATABASE_URL"))
    elif "pgvector" not in db.image_repo:
        yield Finding(
            f"LobeChat's database {db.name} runs {db.image!r}, which has no pgvector", d.compose.where(db, "image")
        )


# scheme://[user info@]host[:port][/path]: one user info without URL delimiters, then the host.
_DB_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(?P<host>[^@:/?#\[\]]+)(?::\d*)?(?:[/?#].*)?", re.S)


@GROUP.check(
    "COMPOSE-LOGTO-START",
    title="Logto seeds its database and deploys the alterations of its own release before it starts",
    fix='entrypoint: sh -c "npm run cli db seed -- --swe && npm run alteration deploy <image tag> && npm start"; '
    'an image bump without it stops core with "Undeployed database alterations found"',
    faults=[
        fault(Edit(COMPOSE, "npm run cli db seed -- --swe && ", ""), expect="does not run `db seed -- --swe`"),
        fault(Edit(COMPOSE, "image: svhd/logto:1.37.1", "image: svhd/logto:1.38.0"), expect="runs image tag 1.38.0"),
        fault(
            Edit(COMPOSE, "npm run alteration deploy 1.37.1 && ", ""),
            expect="does not run `alteration deploy <version>`",
        ),
        # neither a Logto image nor Logto's start script: another identity provider
        fault(
            Edit(COMPOSE, "image: svhd/logto:1.37.1", "image: example/auth:1.37.1"),
            Edit(
                COMPOSE,
                '"npm run cli db seed -- --swe && npm run alteration deploy 1.37.1 && npm start"',
                '"exec /usr/local/bin/auth-server"',
            ),
            expect="no Logto service",
        ),
    ],
    passes=[
        passes(
            Edit(COMPOSE, "npm run alteration deploy 1.37.1", "npm run alteration deploy v1.37.1"),
            why="the version written with a v",
        )
    ],
    impact="breaks",
)
def logto_start(d: Deployment) -> Iterator[Finding]:
    if d.logto is None:
        yield Finding("no Logto service (image svhd/logto or ghcr.io/logto-io/logto) in the compose file", COMPOSE)
        return
    s = d.logto
    cmd = s.start_command
    where = d.compose.where(s, "entrypoint" if "entrypoint" in s.spec else "command")
    if not re.search(r"db seed\b.*--swe", cmd):
        yield Finding(f"service {s.name} does not run `db seed -- --swe` before start", where)
    match = re.search(r"alteration deploy\s+(\S+)", cmd)
    tag = (s.image_tag or "").lstrip("v")
    if not match:
        yield Finding(f"service {s.name} does not run `alteration deploy <version>` before start", where)
    elif match.group(1).lstrip("v") != tag:
        yield Finding(f"service {s.name} deploys alterations for {match.group(1)} but runs image tag {tag}", where)


@GROUP.check(
    "COMPOSE-TRUST-PROXY",
    title="Logto trusts the proxy's X-Forwarded-* headers (TRUST_PROXY_HEADER=1)",
    fix='set TRUST_PROXY_HEADER: "1" on the Logto service; behind TLS-terminating Nginx it otherwise builds '
    "http:// URLs",
    faults=[
        fault(Edit(COMPOSE, '      TRUST_PROXY_HEADER: "1"\n', ""), expect="has TRUST_PROXY_HEADER=None"),
        # env_file first, then `environment` on top: the file's value loses.
        fault(
            Edit(COMPOSE, '      TRUST_PROXY_HEADER: "1"\n', '      TRUST_PROXY_HEADER: "0"\n'),
            AddFile("logto.env", "TRUST_PROXY_HEADER=1\n"),
            Edit(COMPOSE, "    image: svhd/logto:1.37.1\n", "    image: svhd/logto:1.37.1\n    env_file: logto.env\n"),
            expect="has TRUST_PROXY_HEADER='0'",
        ),
    ],
    passes=[
        passes(
            Edit(COMPOSE, '      TRUST_PROXY_HEADER: "1"\n', ""),
            AddFile("logto.env", "TRUST_PROXY_HEADER=1\n"),
            Edit(COMPOSE, "    image: svhd/logto:1.37.1\n", "    image: svhd/logto:1.37.1\n    env_file: logto.env\n"),
            why="set in the service's env_file",
        )
    ],
    impact="breaks",
)
def trust_proxy(d: Deployment) -> Iterator[Finding]:
    if d.logto is not None and d.logto.environment.get("TRUST_PROXY_HEADER") not in ("1", "true"):
        yield Finding(
            f"service {d.logto.name} has TRUST_PROXY_HEADER={d.logto.environment.get('TRUST_PROXY_HEADER')!r}",
            d.where_var(d.logto, "TRUST_PROXY_HEADER"),
        )


@GROUP.check(
    "COMPOSE-PUBLIC-NAMES",
    title="with certificates from a private CA, LobeChat and Logto resolve every public name and trust that CA (they "
    "call their own URLs)",
    fix="give both services extra_hosts `<name>:host-gateway` for the app, auth and S3 names, mount the CA "
    "bundle and set NODE_EXTRA_CA_CERTS to it; otherwise sign-in fails with `fetch failed`",
    faults=[
        fault(
            Edit(COMPOSE, '  - "${S3_DOMAIN:?set S3_DOMAIN in .env}:host-gateway"\n', ""),
            expect="cannot resolve s3.example.com",
        ),
        fault(
            Edit(
                COMPOSE,
                "      NODE_EXTRA_CA_CERTS: /etc/lobestack/extra-ca.pem\n    volumes:\n"
                "      - ${EXTRA_CA_FILE:-./ca/extra-ca.pem}:/etc/lobestack/extra-ca.pem:ro\n"
                "    extra_hosts: *public-names\n"
                '    ports:\n      - "127.0.0.1:23210:3210"',
                '    extra_hosts: *public-names\n    ports:\n      - "127.0.0.1:23210:3210"',
            ),
            expect="service lobe has no NODE_EXTRA_CA_CERTS",
        ),
        fault(
            Edit(COMPOSE, ":/etc/lobestack/extra-ca.pem:ro", ":/etc/ssl/extra-ca.pem:ro", count=2),
            expect="is not a mounted file",
        ),
    ],
    passes=[
        passes(
            Edit(
                COMPOSE,
                '    extra_hosts: *public-names\n    ports:\n      - "127.0.0.1:23001:3001"',
                "    extra_hosts:\n      auth.example.com: host-gateway\n      lobe.example.com: host-gateway\n"
                '      s3.example.com: host-gateway\n    ports:\n      - "127.0.0.1:23001:3001"',
            ),
            why="extra_hosts as a mapping",
        )
    ],
    impact="breaks",
)
def public_names(d: Deployment) -> Iterator[Finding]:
    services = [s for s in (d.lobe, d.logto) if s is not None]
    private = d.certificates.private
    if not private and not any(s.environment.get("NODE_EXTRA_CA_CERTS") for s in services):
        raise CheckSkipped(
            f"the certificates are not from a private CA ({d.certificates.why}): the services trust them and "
            "resolve the public names as any client does"
        )
    # S3's name only where MinIO is behind this proxy; an external S3 resolves and verifies like any public site.
    urls = ((d.lobe, "APP_URL"), (d.logto, "ENDPOINT")) + (((d.lobe, "S3_ENDPOINT"),) if d.minio else ())
    names = {o.host for o in (d.origin_of(s, key) for s, key in urls) if o is not None}
    for s in services:
        mapped = {h.split(":", 1)[0] for h in s.extra_hosts}
        missing = sorted(names - mapped)
        if private and missing:
            yield Finding(
                f"service {s.name} cannot resolve {', '.join(missing)} to the proxy (no extra_hosts)",
                d.compose.where(s, "extra_hosts"),
            )
        ca = s.environment.get("NODE_EXTRA_CA_CERTS")
        if private and not ca:
            yield Finding(f"service {s.name} has no NODE_EXTRA_CA_CERTS", d.compose.where(s, "environment"))
        elif ca and not any(m.target == ca for m in s.mounts):
            yield Finding(
                f"service {s.name}: NODE_EXTRA_CA_CERTS={ca} is not a mounted file", d.compose.where(s, "volumes")
            )


@GROUP.check(
    "COMPOSE-GPU",
    title="a GPU service reserves NVIDIA devices with the gpu capability",
    fix="deploy.resources.reservations.devices: [{driver: nvidia, count: all, capabilities: [gpu]}] "
    "(without the gpu capability Docker reserves no GPU and the model runs on the CPU)",
    faults=[
        fault(
            Edit(COMPOSE, "              capabilities: [gpu]\n", "              capabilities: [utility]\n"),
            expect="service ollama reserves no NVIDIA GPU",
        ),
        fault(
            Edit(COMPOSE, "            - driver: nvidia\n", "            - driver: cdi\n"), expect="reserves no NVIDIA"
        ),
    ],
    passes=[
        passes(
            Edit(COMPOSE, "              capabilities: [gpu]\n", "              capabilities: [gpu, utility]\n"),
            why="more capabilities than gpu",
        )
    ],
    impact="advice",
)
def gpu(d: Deployment) -> Iterator[Finding]:
    for s in d.compose.services.values():
        if "ollama" not in s.image_repo and "gpu" not in s.profiles:
            continue
        devices = (((s.spec.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices")
        ok = any(dev.get("driver") == "nvidia" and "gpu" in (dev.get("capabilities") or []) for dev in devices or [])
        if not ok:
            yield Finding(f"service {s.name} reserves no NVIDIA GPU with capabilities [gpu]", d.compose.where(s))
