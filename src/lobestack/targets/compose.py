"""The `compose` target: an ephemeral stack from a freshly rendered deployment directory, brought up with
testcontainers' DockerCompose, watched until every service is healthy (with progress, failing fast), and always
torn down with its volumes.

Runs never harm each other (targets/runs.py: owner labels, a bounded host-wide lock, private work directories);
a kept stack makes the next run stop at once, naming the command that removes it.

Ryuk (testcontainers' reaper) cannot be pulled on a registry-less machine, so it is disabled and cleanup is ours."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from lobestack.deployment import Deployment, load_deployment
from lobestack.errors import BadInput
from lobestack.probes.http import HttpProbe
from lobestack.render.bundle import bundle_dir
from lobestack.render.ephemeral import APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN, render_ephemeral
from lobestack.report.redaction import Redactor
from lobestack.targets import pki
from lobestack.targets.images import standins_dir
from lobestack.targets.runs import (
    KEEP_LABEL,
    OWNER_LABEL,
    PROJECT_PREFIX,
    WORKDIR_LABEL,
    LockTimeout,
    current_owner,
    kept_stacks,
    make_workdir,
    remove_leftovers,
    stack_lock,
)
from lobestack.targets.target import (
    CONSOLE_ADMIN,
    CONTAINERS,
    HOST_PORTS,
    TEST_USER,
    WRITES,
    Account,
    Accounts,
    ServiceState,
    Target,
    TargetOptions,
)

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")

from testcontainers.compose import DockerCompose  # (imported after the settings above)

CERT_DIR_IN_NGINX = "/etc/lobestack/certs"
TEST_USERNAME = "tester"
CONSOLE_ADMIN_USERNAME = "lobestack_admin"  # Logto usernames: a letter or underscore, then word characters
IMAGE_SETS = ("official", "reference")
RUN_OVERRIDE = "docker-compose.run.yml"
FAST_HEALTH_INTERVAL_S = 1


def lock_timeout_s() -> float:
    return _env_seconds("LOBESTACK_STACK_LOCK_TIMEOUT", 900)


def start_timeout_s() -> float:
    return _env_seconds("LOBESTACK_STACK_TIMEOUT", 240)


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value <= 0:
        raise BadInput(f"{name}={raw!r}: expected a positive number of seconds")
    return value


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


def host_gateway_ip() -> str:
    """The address `host-gateway` resolves to in containers: docker0's IPv4 address."""
    result = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, timeout=10)
    match = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", result.stdout)
    if not match:
        raise StackStartError("docker", "no docker0 bridge address (is dockerd running? scripts/setup-host starts it)")
    return match.group(1)


class EphemeralStack(Target):
    """One ephemeral stack: its deployment directory, its Compose project, its lifecycle."""

    name = "compose"
    only_pinned_names = True  # the browser reaches the stack and nothing else

    def __init__(self, root: Path, images: str, *, progress: Callable[[str], None] = print, keep: bool = False) -> None:
        if images not in IMAGE_SETS:
            raise BadInput(f"unknown image set {images!r} (one of {', '.join(IMAGE_SETS)})")
        self.root = root
        self.images = images
        self.progress = progress
        self.keep = keep
        self.deployment: Deployment = load_deployment(root)
        self.project = self.deployment.env.get("COMPOSE_PROJECT_NAME")
        self.run_id = self.project.removeprefix(PROJECT_PREFIX)
        files = ["docker-compose.yml", "docker-compose.ephemeral.yml"]
        if images == "reference":
            files.append("docker-compose.reference.yml")
        if (root / RUN_OVERRIDE).exists():
            files.append(RUN_OVERRIDE)
        self.compose = DockerCompose(context=str(root), compose_file_name=files, wait=False, pull=False)
        self.redactor = Redactor(self.deployment.secret_values())
        self.durations: dict[str, float] = {}
        self._up: subprocess.Popen[str] | None = None
        self._gateway = ""

    # --- creation -------------------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        workdir: Path,
        images: str,
        *,
        progress: Callable[[str], None] = print,
        edit: Callable[[Path], None] | None = None,
        keep: bool = False,
        owner: str | None = None,
    ) -> EphemeralStack:
        """Render a deployment directory for the test names with a per-run CA; `edit` may break it on purpose."""
        if images not in IMAGE_SETS:
            raise ValueError(f"unknown image set {images!r}")
        # before anything is rendered: an installation without the stand-ins' sources fails here, in one line
        overlay = standins_dir() / "docker-compose.reference.yml" if images == "reference" else None
        root = workdir / "deploy"
        pki_dir = workdir / "pki"
        pki.issue(root / "certs", [APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN], pki_dir / "ca.pem", pki_dir / "ca-key.pem")
        gateway = host_gateway_ip()
        render_ephemeral(
            root,
            listen_addresses=("127.0.0.1", gateway),
            cert_dir=CERT_DIR_IN_NGINX,
            extra_ca=pki_dir / "ca.pem",
            project_name=PROJECT_PREFIX + secrets.token_hex(4),
        )
        with (root / ".env").open("a", encoding="utf-8") as env:
            env.write(
                f"\n# --- ephemeral stack only ---\nLOBESTACK_TEST_USER={TEST_USERNAME}\n"
                f"LOBESTACK_TEST_PASSWORD={secrets.token_urlsafe(18)}\n"
                # the console's first administrator, created by the e2e flow on the fresh stack
                f"LOBESTACK_ADMIN_USER={CONSOLE_ADMIN_USERNAME}\nLOBESTACK_ADMIN_PASSWORD={secrets.token_urlsafe(18)}\n"
            )
        shutil.copyfile(
            bundle_dir() / "ephemeral" / "docker-compose.ephemeral.yml", root / "docker-compose.ephemeral.yml"
        )
        if overlay is not None:
            shutil.copyfile(overlay, root / "docker-compose.reference.yml")
        if edit is not None:
            edit(root)
        write_run_override(root, keep=keep, workdir=workdir, owner=owner or current_owner())
        stack = cls(root, images, progress=progress, keep=keep)
        stack._gateway = gateway
        return stack

    @classmethod
    def open(cls, options: TargetOptions, progress: Callable[[str], None]) -> EphemeralStack:
        if options.deployment is not None:
            raise BadInput(
                "--deployment and --target compose exclude each other: the ephemeral stack renders "
                "its own deployment (fresh secrets, test names, a per-run CA)"
            )
        if options.images not in IMAGE_SETS:
            raise BadInput(f"unknown image set {options.images!r} (one of {', '.join(IMAGE_SETS)})")
        return cls.create(make_workdir(), options.images, progress=progress, keep=options.keep)

    @property
    def label(self) -> str:
        standins = " (STAND-INS for LobeChat, Logto and MinIO)" if self.images == "reference" else ""
        return f"ephemeral stack {self.project}, images={self.images}{standins}"

    @property
    def workdir(self) -> Path:
        return self.root.parent

    def start(self, progress: Callable[[str], None], timeout_s: float) -> None:
        """Wait for the host's stack ports (bounded), remove what dead runs left, build images, start."""
        from lobestack.targets.images import ensure_images

        kept = kept_stacks()
        if kept:
            raise StackStartError(
                "lock",
                f"a kept stack holds the stack's ports: {', '.join(kept)}; remove it with "
                f"`python -m lobestack down {kept[0]}`",
            )
        self._lock = contextlib.ExitStack()
        try:
            self._lock.enter_context(stack_lock(progress, lock_timeout_s()))
        except LockTimeout as exc:
            raise StackStartError("lock", str(exc)) from None
        remove_leftovers(progress)
        if self.images == "reference":
            progress("reference images (built locally; stand-ins for LobeChat, Logto, MinIO):")
            ensure_images(progress=progress)
        self.up(timeout_s=timeout_s)

    def finish(self, progress: Callable[[str], None], *, failed: bool, log_dir: Path) -> None:
        try:
            if failed:
                written = self.write_logs(log_dir)
                progress(f"stack logs: {len(written)} files in {log_dir}")
        finally:
            if self.keep:
                progress(self.how_to_reach())
            else:
                self.down()
                shutil.rmtree(self.workdir, ignore_errors=True)
            lock = getattr(self, "_lock", None)
            if lock is not None:
                lock.close()

    @property
    def capabilities(self) -> frozenset[str]:  # type: ignore[override]
        found = {CONTAINERS, HOST_PORTS, WRITES}
        accounts = self.accounts()
        if accounts.user is not None and self.images == "reference":
            found.add(TEST_USER)
        if accounts.admin is not None:
            found.add(CONSOLE_ADMIN)
        return frozenset(found)

    def why_not(self, need: str) -> str:
        if need == TEST_USER and self.images != "reference":
            return (
                "the official Logto has no test user and no application for LobeChat until it is provisioned "
                "(roadmap step 5): run the browser flows with --images reference, or against a provisioned "
                "deployment with --target live"
            )
        return super().why_not(need)

    def accounts(self) -> Accounts:
        """The stack's test user (the reference Logto registers it from .env) and the console administrator the
        console flow creates on the fresh stack."""
        env = self.deployment.env
        user, password = env.get("LOBESTACK_TEST_USER"), env.get("LOBESTACK_TEST_PASSWORD")
        admin, admin_password = env.get("LOBESTACK_ADMIN_USER"), env.get("LOBESTACK_ADMIN_PASSWORD")
        return Accounts(
            user=Account(user, password) if user and password else None,
            admin=Account(admin, admin_password) if admin and admin_password else None,
        )

    def name_pins(self) -> dict[str, str]:
        return dict.fromkeys((APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN), "127.0.0.1")

    def service_log(self, service: str, since: str) -> str | None:
        return self.log_tail(service, lines=2000, since=since)

    @property
    def ca_file(self) -> Path:
        return self.root / "ca" / "extra-ca.pem"

    @property
    def ca(self) -> pki.CertificateAuthority:
        pki_dir = self.root.parent / "pki"
        return pki.CertificateAuthority.load(pki_dir / "ca.pem", pki_dir / "ca-key.pem")

    @property
    def expected_services(self) -> list[str]:
        names = [n for n, s in self.deployment.compose.services.items() if not s.spec.get("profiles")]
        return [*names, "nginx"]

    def compose_cli(self) -> str:
        """The `docker compose -f …` command of this stack, for people to paste."""
        return shlex.join(self.compose.compose_command_property)

    # --- lifecycle ------------------------------------------------------------------------------------------------
    def pin_images(self) -> None:
        """Name the reference images by id in this run's overlay: another checkout on this host that rebuilds a tag
        (its own version of a stand-in) cannot swap an image under this run, not even when a service is recreated."""
        overlay = self.root / "docker-compose.reference.yml"
        if self.images != "reference" or not overlay.exists():
            return
        text = overlay.read_text(encoding="utf-8")
        for tag in sorted(set(re.findall(r"image: (lobestack/[\w.-]+:[\w.-]+)", text))):
            found = subprocess.run(
                ["docker", "image", "inspect", "--format", "{{.Id}}", tag], capture_output=True, text=True, timeout=30
            )
            if found.returncode == 0 and found.stdout.strip():
                text = text.replace(f"image: {tag}\n", f"image: {found.stdout.strip()}  # {tag}\n")
        overlay.write_text(text, encoding="utf-8")

    def up(self, timeout_s: float = 240.0, poll_s: float = 0.5) -> dict[str, float]:
        """Start (the reference images pinned by id) and wait until every service is ready; raise StackStartError as
        soon as one cannot be."""
        self.pin_images()
        t0 = time.monotonic()
        self.progress(
            f"stack {self.project}: starting {len(self.expected_services)} services "
            f"(images={self.images}, deadline {timeout_s:.0f} s)"
        )
        self._up = subprocess.Popen(
            [*self.compose.compose_command_property, "up", "-d", "--no-build"],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a Ctrl-C of the terminal reaches pytest, which tears down in order
        )
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
            returncode = self._up.poll()
            if returncode not in (None, 0):
                stuck = next((n for n in self.expected_services if n not in self.durations), "compose")
                stderr = self._up.stderr.read() if self._up.stderr else ""
                raise StackStartError(
                    stuck,
                    f"`docker compose up` failed: {_last_line(stderr)}",
                    self._health_output(stuck),
                    self.log_tail(stuck),
                )
            if returncode == 0 and all(n in self.durations for n in self.expected_services):
                self.progress(f"stack {self.project}: all healthy in {elapsed:.1f} s")
                self._up = None
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
        """Stop a start still in flight, then remove containers, networks and volumes (bounded)."""
        if self._up is not None and self._up.poll() is None:
            self._up.terminate()
            try:
                self._up.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._up.kill()
        self.progress(f"stack {self.project}: removing containers, network and volumes")
        self.compose_run("down", "--volumes", "--remove-orphans", "--timeout", "5", check=False, timeout_s=180)

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

    def exec(self, service: str, argv: list[str], timeout_s: float = 15) -> subprocess.CompletedProcess[str]:
        return self.compose_run("exec", "-T", service, *argv, check=False, timeout_s=timeout_s)

    def published(self, service: str, container_port: int) -> tuple[str, int]:
        for binding in self.deployment.compose.services[service].ports:
            if binding.container_port == container_port and binding.host_port:
                return ("127.0.0.1" if binding.host_ip in ("", "0.0.0.0") else binding.host_ip), binding.host_port
        raise KeyError(f"{service} publishes no port for {container_port}")

    def address(self, host: str) -> str:
        return "127.0.0.1"

    def exposure_addresses(self) -> list[str]:
        # The only non-loopback address of this host the test may knock on: Docker's own bridge, where the stack's
        # containers reach the host. (A host's other addresses are judged by the prod layer, from outside.)
        return [self._gateway or host_gateway_ip()]

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

    def log_tail(self, service: str, lines: int = 30, since: str | None = None) -> str:
        args = ["logs", "--no-color", "--tail", str(lines)]
        if since:
            args += ["--since", since]
        result = self.compose_run(*args, service, check=False)
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

    def wait_ready(self, *services: str, timeout_s: float = 90.0) -> None:
        """Wait (bounded) until these services are ready again, e.g. after a fault was undone."""
        deadline = time.monotonic() + timeout_s
        pending = set(services)
        while pending:
            states = {s.name: s for s in self.services()}
            pending = {n for n in pending if not (n in states and states[n].ready)}
            if not pending:
                return
            if time.monotonic() > deadline:
                name = sorted(pending)[0]
                raise StackStartError(
                    name, f"not ready {timeout_s:.0f} s after recovery", self._health_output(name), self.log_tail(name)
                )
            time.sleep(0.5)

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
                f"  check it:  pytest suites/stack --target live --deployment {self.root} --ca-file {self.ca_file} "
                + " ".join(f"--resolve {n}:127.0.0.1" for n in (APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN)),
                f"  remove it: python -m lobestack down {self.project}",
            ]
        )


def write_run_override(root: Path, *, keep: bool, workdir: Path, owner: str) -> None:
    """This run's own Compose override: owner labels on every container, network and volume, and health polled
    every second (the production healthcheck commands unchanged; retries scaled so a service gets as long as in
    production before it counts as unhealthy)."""
    deployment = load_deployment(root)
    labels = {OWNER_LABEL: owner, KEEP_LABEL: "1" if keep else "0", WORKDIR_LABEL: str(workdir)}
    services: dict[str, dict] = {}
    for name, service in deployment.compose.services.items():
        entry: dict = {"labels": dict(labels)}
        health = service.spec.get("healthcheck") or {}
        if health.get("test") and not health.get("disable"):
            interval = _seconds(str(health.get("interval", "30s")))
            retries = int(health.get("retries", 3))
            entry["healthcheck"] = {
                "interval": f"{FAST_HEALTH_INTERVAL_S}s",
                "retries": max(retries, round(retries * interval / FAST_HEALTH_INTERVAL_S)),
            }
        services[name] = entry
    services["nginx"] = {"labels": dict(labels)}
    raw = deployment.compose.data
    override = {
        "services": services,
        "networks": {name: {"labels": dict(labels)} for name in (raw.get("networks") or {"default": {}})},
        "volumes": {name: {"labels": dict(labels)} for name in (raw.get("volumes") or {})},
    }
    if "default" not in override["networks"]:
        override["networks"]["default"] = {"labels": dict(labels)}
    (root / RUN_OVERRIDE).write_text(
        "# This run's labels (owner, keep) and faster health polling; written by lobestack.\n"
        + yaml.safe_dump(override, sort_keys=False),
        encoding="utf-8",
    )


def _seconds(text: str) -> float:
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
    return total or 30.0


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(no output)"
