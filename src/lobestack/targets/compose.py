"""The `compose` target: an ephemeral stack from a freshly rendered deployment directory, brought up with
testcontainers' DockerCompose, watched until every service is healthy (with progress, failing fast), and always
torn down with its volumes.

Ryuk (testcontainers' reaper) cannot be pulled on a registry-less machine, so it is disabled and cleanup is ours:
every ephemeral project is named `lobestack-ephemeral-<id>`, and leftovers of an interrupted run are removed by
that name on the next start."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lobestack.deployment import Deployment, load_deployment
from lobestack.probes.http import HttpProbe
from lobestack.render.bundle import bundle_dir
from lobestack.render.ephemeral import APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN, render_ephemeral
from lobestack.report.redaction import Redactor
from lobestack.targets import pki
from lobestack.targets.images import standins_dir

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")

from testcontainers.compose import DockerCompose  # (imported after the settings above)

PROJECT_PREFIX = "lobestack-ephemeral-"
CERT_DIR_IN_NGINX = "/etc/lobestack/certs"
TEST_USER = "tester"
IMAGE_SETS = ("official", "reference")


class StackStartError(Exception):
    """The stack did not become healthy: which service, why, its last health output and the tail of its log."""

    def __init__(self, service: str, reason: str, health: str = "", log_tail: str = "") -> None:
        self.service, self.reason, self.health, self.log_tail = service, reason, health, log_tail
        text = f"service {service}: {reason}"
        if health:
            text += f"\n  last health check: {health.strip()[-500:]}"
        if log_tail:
            text += "\n  log tail:\n" + "\n".join(f"    {line}" for line in log_tail.rstrip().splitlines())
        super().__init__(text)


@dataclass(frozen=True)
class ServiceState:
    name: str
    state: str
    health: str
    exit_code: int | None
    one_shot: bool
    has_healthcheck: bool = True

    @property
    def ready(self) -> bool:
        if self.one_shot:
            return self.state == "exited" and self.exit_code == 0
        return self.state == "running" and (self.health == "healthy" or not self.has_healthcheck)

    @property
    def failed(self) -> str | None:
        """Why this service can no longer become ready, or None."""
        if self.state == "restarting":
            return f"keeps restarting (last exit code {self.exit_code})"
        if self.state in ("exited", "dead") and not (self.one_shot and self.exit_code == 0):
            return f"exited with code {self.exit_code}"
        if self.health == "unhealthy":
            return "is unhealthy"
        return None

    def describe(self) -> str:
        if self.one_shot and self.state == "exited":
            return f"completed (exit {self.exit_code})"
        return self.health or self.state


def host_gateway_ip() -> str:
    """The address `host-gateway` resolves to in containers: docker0's IPv4 address."""
    result = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, timeout=10)
    match = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", result.stdout)
    if not match:
        raise StackStartError("docker", "no docker0 bridge address (is dockerd running? scripts/setup-host starts it)")
    return match.group(1)


def remove_leftovers(progress: Callable[[str], None] = print) -> list[str]:
    """`down --volumes` every ephemeral project still present (containers, networks or volumes)."""
    projects: set[str] = set()
    label = '{{.Label "com.docker.compose.project"}}'
    for kind in (["ps", "-a"], ["network", "ls"], ["volume", "ls"]):
        result = subprocess.run(
            ["docker", *kind, "--filter", "label=com.docker.compose.project", "--format", label],
            capture_output=True,
            text=True,
            timeout=60,
        )
        projects |= {p for p in result.stdout.split() if p.startswith(PROJECT_PREFIX)}
    for project in sorted(projects):
        progress(f"  removing leftover stack {project}")
        subprocess.run(
            ["docker", "compose", "-p", project, "down", "--volumes", "--remove-orphans", "--timeout", "5"],
            capture_output=True,
            timeout=180,
        )
    return sorted(projects)


class EphemeralStack:
    """One ephemeral stack: its deployment directory, its Compose project, its lifecycle."""

    def __init__(self, root: Path, images: str, *, progress: Callable[[str], None] = print) -> None:
        if images not in IMAGE_SETS:
            raise ValueError(f"unknown image set {images!r}")
        self.root = root
        self.images = images
        self.progress = progress
        self.deployment: Deployment = load_deployment(root)
        self.project = self.deployment.env.get("COMPOSE_PROJECT_NAME")
        files = ["docker-compose.yml", "docker-compose.ephemeral.yml"]
        if images == "reference":
            files.append("docker-compose.reference.yml")
        self.compose = DockerCompose(context=str(root), compose_file_name=files, wait=False, pull=False)
        self.redactor = Redactor(self.deployment.secret_values())
        self.durations: dict[str, float] = {}

    # --- creation -------------------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        workdir: Path,
        images: str,
        *,
        progress: Callable[[str], None] = print,
        edit: Callable[[Path], None] | None = None,
    ) -> EphemeralStack:
        """Render a deployment directory for the test names with a per-run CA; `edit` may break it on purpose."""
        if images not in IMAGE_SETS:
            raise ValueError(f"unknown image set {images!r}")
        # before anything is rendered: an installation without the stand-ins' sources fails here, in one line
        overlay = standins_dir() / "docker-compose.reference.yml" if images == "reference" else None
        root = workdir / "deploy"
        pki_dir = workdir / "pki"
        pki.issue(root / "certs", [APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN], pki_dir / "ca.pem")
        render_ephemeral(
            root,
            listen_addresses=("127.0.0.1", host_gateway_ip()),
            cert_dir=CERT_DIR_IN_NGINX,
            extra_ca=pki_dir / "ca.pem",
            project_name=PROJECT_PREFIX + secrets.token_hex(4),
        )
        with (root / ".env").open("a", encoding="utf-8") as env:
            env.write(
                f"\n# --- ephemeral stack only ---\nLOBESTACK_TEST_USER={TEST_USER}\n"
                f"LOBESTACK_TEST_PASSWORD={secrets.token_urlsafe(18)}\n"
            )
        shutil.copyfile(
            bundle_dir() / "ephemeral" / "docker-compose.ephemeral.yml", root / "docker-compose.ephemeral.yml"
        )
        if overlay is not None:
            shutil.copyfile(overlay, root / "docker-compose.reference.yml")
        if edit is not None:
            edit(root)
        return cls(root, images, progress=progress)

    @property
    def ca_file(self) -> Path:
        return self.root / "ca" / "extra-ca.pem"

    @property
    def expected_services(self) -> list[str]:
        names = [n for n, s in self.deployment.compose.services.items() if not s.spec.get("profiles")]
        return [*names, "nginx"]

    def compose_cli(self) -> str:
        """The `docker compose -f …` command of this stack, for people to paste."""
        return shlex.join(self.compose.compose_command_property)

    # --- lifecycle ------------------------------------------------------------------------------------------------
    def up(self, timeout_s: float = 240.0, poll_s: float = 1.0) -> dict[str, float]:
        """Start and wait until every service is ready; raise StackStartError as soon as one cannot be."""
        t0 = time.monotonic()
        self.progress(
            f"stack {self.project}: starting {len(self.expected_services)} services "
            f"(images={self.images}, deadline {timeout_s:.0f} s)"
        )
        up_error: list[BaseException] = []

        def run_up() -> None:
            try:
                self.compose.start()
            except BaseException as exc:  # reported by the watcher below
                up_error.append(exc)

        thread = threading.Thread(target=run_up, name="compose-up", daemon=True)
        thread.start()
        seen: dict[str, str] = {}
        while True:
            states = {s.name: s for s in self.services()}
            elapsed = time.monotonic() - t0
            for name in self.expected_services:
                state = states.get(name)
                shown = state.describe() if state else "not created"
                if seen.get(name) != shown and state is not None:
                    seen[name] = shown
                    self.progress(f"  {name:12} {shown:24} {elapsed:6.1f} s")
                if state is not None and state.ready and name not in self.durations:
                    self.durations[name] = elapsed
                if state is not None and state.failed:
                    raise StackStartError(name, state.failed, self._health_output(name), self.log_tail(name))
            if up_error and not thread.is_alive():
                stuck = next((n for n in self.expected_services if n not in self.durations), "compose")
                raise StackStartError(
                    stuck,
                    f"`docker compose up` failed: {_stderr(up_error[0])}",
                    self._health_output(stuck),
                    self.log_tail(stuck),
                )
            if not thread.is_alive() and all(n in self.durations for n in self.expected_services):
                self.progress(f"stack {self.project}: all healthy in {elapsed:.1f} s")
                return self.durations
            if elapsed > timeout_s:
                waiting = [n for n in self.expected_services if n not in self.durations]
                name = waiting[0] if waiting else "compose"
                raise StackStartError(
                    name,
                    f"not healthy after {timeout_s:.0f} s (waiting for {', '.join(waiting)})",
                    self._health_output(name),
                    self.log_tail(name),
                )
            time.sleep(poll_s)

    def down(self) -> None:
        self.progress(f"stack {self.project}: removing containers, network and volumes")
        self.compose.stop(down=True)

    # --- facts ----------------------------------------------------------------------------------------------------
    def services(self) -> list[ServiceState]:
        try:
            containers = self.compose.get_containers(include_all=True)
        except subprocess.CalledProcessError:
            return []
        specs = self.deployment.compose.services
        one_shot = {n for n, s in specs.items() if s.one_shot}
        # Nginx (the ephemeral override) has a healthcheck; so must every long-running service (COMPOSE-HEALTHCHECK).
        unchecked = {n for n, s in specs.items() if not (s.spec.get("healthcheck") or {}).get("test")}
        return [
            ServiceState(
                c.Service or "?",
                c.State or "",
                c.Health or "",
                c.ExitCode,
                (c.Service or "") in one_shot,
                (c.Service or "") not in unchecked,
            )
            for c in containers
        ]

    def _container_id(self, service: str) -> str | None:
        result = self.compose_run("ps", "-a", "-q", service, check=False)
        return result.stdout.split()[0] if result.stdout.split() else None

    def _health_output(self, service: str) -> str:
        cid = self._container_id(service)
        if not cid:
            return ""
        result = subprocess.run(
            ["docker", "inspect", "--format", "{{json .State.Health}}", cid], capture_output=True, text=True, timeout=30
        )
        try:
            health = json.loads(result.stdout or "null")
        except json.JSONDecodeError:
            return ""
        log = (health or {}).get("Log") or []
        return self.redactor(log[-1].get("Output", "")) if log else ""

    def log_tail(self, service: str, lines: int = 30) -> str:
        result = self.compose_run("logs", "--no-color", "--tail", str(lines), service, check=False)
        return self.redactor(result.stdout + result.stderr)

    def write_logs(self, log_dir: Path) -> list[Path]:
        """Every service's whole log, secrets masked, as `<service>.log`."""
        log_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name in self.expected_services:
            result = self.compose_run("logs", "--no-color", "--timestamps", name, check=False)
            path = log_dir / f"{name}.log"
            path.write_text(self.redactor(result.stdout + result.stderr), encoding="utf-8")
            written.append(path)
        return written

    @property
    def http(self) -> HttpProbe:
        """HTTPS to the public names through this stack's Nginx (on loopback), trusting the run's CA."""
        names = (APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN)
        return HttpProbe(resolve=dict.fromkeys(names, "127.0.0.1"), ca_file=self.ca_file)

    def compose_run(self, *args: str, check: bool = True, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        """`docker compose` (this stack's files and project) with `args`, in the deployment directory."""
        return subprocess.run(
            [*self.compose.compose_command_property, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=check,
        )

    def wait_ready(self, service: str, timeout_s: float = 60.0) -> None:
        """Wait (bounded) until one service is ready again, e.g. after a fault was undone."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = next((s for s in self.services() if s.name == service), None)
            if state is not None and state.ready:
                return
            time.sleep(0.5)
        raise StackStartError(
            service, f"not ready {timeout_s:.0f} s after recovery", self._health_output(service), self.log_tail(service)
        )

    def reload_nginx(self, timeout_s: float = 10.0) -> None:
        """Reload the site configs and wait (bounded) until every worker of the old configuration has gone."""
        before = self._nginx_workers()
        self.compose_run("exec", "-T", "nginx", "nginx", "-s", "reload")
        deadline = time.monotonic() + timeout_s
        while self._nginx_workers() & before:
            if time.monotonic() > deadline:
                raise StackStartError(
                    "nginx",
                    f"old workers still serving {timeout_s:.0f} s after reload",
                    log_tail=self.log_tail("nginx"),
                )
            time.sleep(0.1)

    def _nginx_workers(self) -> set[str]:
        # No ps in the image: read /proc (the pattern does not match this shell's own command line).
        script = (
            'for p in /proc/[0-9]*; do grep -qs "^nginx: worke[r] process" "$p/cmdline" && echo "${p#/proc/}"; done;'
            " true"
        )
        return set(self.compose_run("exec", "-T", "nginx", "sh", "-c", script).stdout.split())

    def how_to_reach(self) -> str:
        return "\n".join(
            [
                f"stack kept: project {self.project}, deployment {self.root}",
                f"  reach it:  curl --resolve {APP_DOMAIN}:443:127.0.0.1 --cacert {self.ca_file} https://{APP_DOMAIN}/",
                f"  (also {AUTH_DOMAIN}, {AUTH_DOMAIN}:8443 for the console, {S3_DOMAIN}; same --resolve/--cacert)",
                f"  remove it: cd {self.root} && {self.compose_cli()} down --volumes",
                f"         or: docker compose -p {self.project} down --volumes",
            ]
        )


def _stderr(exc: BaseException) -> str:
    stderr = getattr(exc, "stderr", None)
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    text = (stderr or str(exc)).strip().splitlines()
    return text[-1] if text else type(exc).__name__
