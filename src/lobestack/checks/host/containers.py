"""The deployment's containers on the host, found by its Compose project (COMPOSE_PROJECT_NAME in .env; Docker's
label com.docker.compose.project): each service runs, is healthy, is not restarting over and over, and none has
the keys to the host (privileged, or the Docker socket)."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Recreate, Stop, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes.host import DOCKER_SOCKETS, HostFacts

GROUP = Group("HOST-CONTAINERS", layer="host", title="The deployment's containers")

LOBE_IMAGE_LINE = "    image: lobehub/lobe-chat-database:v1.143.3\n"
# The front Nginx's healthcheck (the breached-password stand-in has the same one: the certs mount is Nginx's own).
NGINX_HEALTHCHECK = (
    "      - ./certs:/etc/lobestack/certs:ro\n    healthcheck:\n"
    '      test: ["CMD-SHELL", "nginx -t -q && kill -0 $$(cat /run/nginx.pid)"]\n'
    "      interval: 2s\n      timeout: 5s\n      retries: 15\n"
)
# lobe's volume list ends with the CA file; logto's does too, so the match runs on to lobe's published port.
CA_VOLUME = "      - ${EXTRA_CA_FILE:-./ca/extra-ca.pem}:/etc/lobestack/extra-ca.pem:ro\n"
LOBE_PORTS = '    extra_hosts: *public-names\n    ports:\n      - "127.0.0.1:23210:3210"\n'
DOCKER_SOCKET_VOLUME = "      - /var/run/docker.sock:/var/run/docker.sock:ro\n"
FAILING_HEALTHCHECK = (
    "      - ./certs:/etc/lobestack/certs:ro\n    healthcheck:\n"
    '      test: ["CMD", "false"]\n      interval: 1s\n      timeout: 5s\n      retries: 1\n'
)


def _lobe(extra: str) -> Recreate:
    """Recreate lobe with one more line in its service block (after its image)."""
    return Recreate("docker-compose.yml", LOBE_IMAGE_LINE, LOBE_IMAGE_LINE + extra, ("lobe",))


@GROUP.check(
    "HOST-CONTAINERS-RUNNING",
    title="every service of the compose file (no profile, not a one-shot job) has a running container",
    fix="`docker compose up -d` in the deployment directory; `docker compose ps -a` and `docker compose logs SERVICE` "
    "say why one stopped",
    faults=[fault(Stop("lobe"), expect="lobe has no running container")],
    impact="breaks",
)
def running(facts: HostFacts) -> Iterator[Finding]:
    containers = facts.containers()
    by_service: dict[str, list] = {}
    for container in containers:
        by_service.setdefault(container.service, []).append(container)
    for service in facts.expected_services:
        mine = by_service.get(service, [])
        if not mine:
            yield Finding(f"{service} has no container in Compose project {facts.project}")
        elif not any(c.status == "running" for c in mine):
            states = ", ".join(f"{c.name} is {c.status} (exit code {c.exit_code})" for c in mine)
            yield Finding(f"{service} has no running container: {states}")


@GROUP.check(
    "HOST-CONTAINERS-HEALTHY",
    title="every container of the project with a healthcheck is healthy",
    fix="read the failing health output (`docker inspect --format '{{json .State.Health}}' CONTAINER`) and the "
    "service's log",
    faults=[
        fault(
            Recreate("docker-compose.ephemeral.yml", NGINX_HEALTHCHECK, FAILING_HEALTHCHECK, ("nginx",), ready=False),
            expect="is unhealthy (running)",
        )
    ],
    impact="breaks",
)
def healthy(facts: HostFacts) -> Iterator[Finding]:
    containers = facts.containers()
    for c in containers:
        if c.health and c.health != "healthy":
            output = f"; last health output: {c.health_output[-300:]!r}" if c.health_output else ""
            yield Finding(f"{c.short} is {c.health} ({c.status}){output}")


@GROUP.check(
    "HOST-CONTAINERS-RESTARTS",
    title="no container's restart count rises (sampled twice, --restart-window seconds apart)",
    fix="a container that keeps restarting crashes at start: `docker compose logs --tail 50 SERVICE` shows why",
    faults=[
        fault(
            Recreate(
                "docker-compose.yml",
                LOBE_IMAGE_LINE,
                LOBE_IMAGE_LINE + '    entrypoint: ["sh", "-c", "sleep 1; exit 3"]\n',
                ("lobe",),
                ready=False,
            ),
            expect="restarted",
        )
    ],
    impact="breaks",
)
def restarts(facts: HostFacts) -> Iterator[Finding]:
    first = {c.id: c for c in facts.containers()}
    later = facts.restart_counts_later()
    for cid, container in first.items():
        after = later.get(cid)
        if after is not None and after > container.restart_count:
            yield Finding(
                f"{container.short} restarted {after - container.restart_count} times in "
                f"{facts.context.restart_window_s:g} s (RestartCount {container.restart_count} -> {after})"
            )


@GROUP.check(
    "HOST-CONTAINERS-PRIVILEGE",
    title="no container runs privileged or mounts the Docker socket (either is root on the host)",
    fix="remove `privileged: true` and any /var/run/docker.sock volume from the service in docker-compose.yml",
    faults=[
        fault(_lobe("    privileged: true\n"), expect="runs privileged"),
        fault(
            Recreate(
                "docker-compose.yml", CA_VOLUME + LOBE_PORTS, CA_VOLUME + DOCKER_SOCKET_VOLUME + LOBE_PORTS, ("lobe",)
            ),
            expect="mounts the Docker socket /var/run/docker.sock",
        ),
    ],
    impact="exposure",
)
def privilege(facts: HostFacts) -> Iterator[Finding]:
    containers = facts.containers()
    for c in containers:
        if c.privileged:
            yield Finding(f"{c.short} runs privileged")
        for source in c.mounts:
            if source in DOCKER_SOCKETS:
                yield Finding(f"{c.short} mounts the Docker socket {source}")
