"""The `compose` target: an ephemeral stack from a freshly rendered deployment directory — or, for the pre-deploy
gate (`--deployment DIR`), from a copy of the user's own directory (render/predeploy.py: its compose file, Nginx sites
and image pins; fresh secrets, a per-run CA for its names) — brought up with testcontainers' DockerCompose, watched
until every service is healthy (with progress, failing fast), and always torn down with its volumes.

Runs never harm each other (targets/runs.py: owner labels, a bounded host-wide lock, private work directories);
a kept stack makes the next run stop at once, naming the command that removes it.

Ryuk (testcontainers' reaper) cannot be pulled on a registry-less machine, so it is disabled and cleanup is ours."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from lobestack import pki
from lobestack.deployment import Deployment, load_deployment
from lobestack.errors import BadInput
from lobestack.probes.http import HttpProbe
from lobestack.provision.steps import ADMIN_PASSWORD_ENV, ADMIN_USERNAME_ENV, TEST_PASSWORD_ENV, TEST_USER_ENV
from lobestack.redaction import Redactor
from lobestack.render.bundle import bundle_dir
from lobestack.render.ephemeral import APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN, render_ephemeral
from lobestack.render.secrets import token as fresh_secret
from lobestack.settings import lock_timeout_s
from lobestack.targets.images import BUILT_SETS, IMAGE_SETS, SET_DESCRIPTIONS, specs_for, standins_dir
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
    CONTAINERS,
    HOST_PORTS,
    LOBECHAT_APP,
    WRITES,
    Account,
    Accounts,
    ServiceState,
    Target,
    TargetOptions,
    public_names_of,
)

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")

from testcontainers.compose import DockerCompose  # (imported after the settings above)

CERT_DIR_IN_NGINX = "/etc/lobestack/certs"
TEST_USERNAME = "tester"
CONSOLE_ADMIN_USERNAME = "admin"
# Test infrastructure of the ephemeral stack (docker-compose.ephemeral.yml): Nginx in front, and the breached-password
# service Logto calls, answering inside the stack's network (pwnedpasswords.conf).
EPHEMERAL_SERVICES = ("nginx", "pwned-passwords")
PWNED_PASSWORDS_NAME = "api.pwnedpasswords.com"
RUN_OVERRIDE = "docker-compose.run.yml"
# The network the overlay creates for its own services when no service of the deployment is on one they can join.
OWN_NETWORK = "lobestack-ephemeral"
FAST_HEALTH_INTERVAL_S = 1


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
    ephemeral = True
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
        if images in BUILT_SETS:
            files.append(overlay_name(images))
        if (root / RUN_OVERRIDE).exists():
            files.append(RUN_OVERRIDE)
        self.compose = DockerCompose(context=str(root), compose_file_name=files, wait=False, pull=False)
        self.redactor = Redactor(self.deployment.secret_values(), keep=self.deployment.compose.services)
        self.durations: dict[str, float] = {}
        self.provision_s: float | None = None
        self._t0 = time.monotonic()  # when the last start began (durations count from there)
        self._up: subprocess.Popen[str] | None = None
        self._up_lock: contextlib.ExitStack | None = None  # the host's stack ports, held from up to down
        self._gateway = ""
        self.source: Path | None = None  # the user's deployment directory this stack was copied from (pre-deploy)

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
        overlay = standins_dir() / overlay_name(images) if images in BUILT_SETS else None
        root = workdir / "deploy"
        pki_dir = workdir / "pki"
        ca = pki.issue(root / "certs", [APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN], pki_dir / "ca.pem", pki_dir / "ca-key.pem")
        gateway = host_gateway_ip()
        # No Logto application yet: `provision` creates LobeChat's after start and writes AUTH_LOGTO_ID/SECRET.
        render_ephemeral(
            root,
            listen_addresses=("127.0.0.1", gateway),
            cert_dir=CERT_DIR_IN_NGINX,
            extra_ca=pki_dir / "ca.pem",
            project_name=PROJECT_PREFIX + secrets.token_hex(4),
            logto_client_id="",
            logto_client_secret="",
        )
        if overlay is not None:
            (root / overlay_name(images)).write_text(pin_built_images(overlay, images), encoding="utf-8")
        return cls._finish_create(
            root, workdir, gateway, images, ca, progress=progress, edit=edit, keep=keep, owner=owner
        )

    @classmethod
    def create_from(
        cls,
        source: Path,
        workdir: Path,
        images: str,
        *,
        progress: Callable[[str], None] = print,
        keep: bool = False,
        owner: str | None = None,
    ) -> EphemeralStack:
        """The pre-deploy gate: a copy of the user's deployment directory `source` (its compose file, Nginx sites and
        image pins) with fresh secrets, certificates from a per-run CA for its own names, and Nginx listening where
        the ephemeral stack's does; with a built image set (reference, standin), its application images swapped by
        role."""
        from lobestack.render.predeploy import copy_deployment

        root = workdir / "deploy"
        pki_dir = workdir / "pki"
        ca = pki.CertificateAuthority.create()
        ca.save(pki_dir / "ca.pem", pki_dir / "ca-key.pem")
        gateway = host_gateway_ip()
        deployment = copy_deployment(
            source,
            root,
            ca=ca,
            listen_addresses=("127.0.0.1", gateway),
            cert_dir_in_nginx=CERT_DIR_IN_NGINX,
            project_name=PROJECT_PREFIX + secrets.token_hex(4),
        )
        if images in BUILT_SETS:
            (root / overlay_name(images)).write_text(
                f"# The {images} image set for this deployment's services, by role (written by lobestack).\n"
                + yaml.safe_dump(built_set_override(deployment, images), sort_keys=False),
                encoding="utf-8",
            )
        stack = cls._finish_create(root, workdir, gateway, images, ca, progress=progress, keep=keep, owner=owner)
        stack.source = source
        return stack

    @classmethod
    def _finish_create(
        cls,
        root: Path,
        workdir: Path,
        gateway: str,
        images: str,
        ca: pki.CertificateAuthority,
        *,
        progress: Callable[[str], None],
        edit: Callable[[Path], None] | None = None,
        keep: bool,
        owner: str | None,
    ) -> EphemeralStack:
        with (root / ".env").open("a", encoding="utf-8") as env:
            env.write(
                "\n# --- ephemeral stack only: the console's admin and a test user (`provision` creates both) ---\n"
                f"LOBESTACK_LOGTO_ADMIN_USERNAME={CONSOLE_ADMIN_USERNAME}\n"
                f"LOBESTACK_LOGTO_ADMIN_PASSWORD={fresh_secret(144)}\n"
                f"LOBESTACK_TEST_USER={TEST_USERNAME}\n"
                f"LOBESTACK_TEST_PASSWORD={fresh_secret(144)}\n"
            )
        ephemeral = bundle_dir() / "ephemeral"
        shutil.copyfile(ephemeral / "docker-compose.ephemeral.yml", root / "docker-compose.ephemeral.yml")
        ca.issue(root / "pwnedpasswords", PWNED_PASSWORDS_NAME)
        shutil.copyfile(ephemeral / "pwnedpasswords.conf", root / "pwnedpasswords" / "nginx.conf")
        if edit is not None:
            edit(root)
        write_run_override(root, keep=keep, workdir=workdir, owner=owner or current_owner())
        stack = cls(root, images, progress=progress, keep=keep)
        stack._gateway = gateway
        return stack

    @classmethod
    def open(cls, options: TargetOptions, progress: Callable[[str], None]) -> EphemeralStack:
        if options.images not in IMAGE_SETS:
            raise BadInput(f"unknown image set {options.images!r} (one of {', '.join(IMAGE_SETS)})")
        if options.deployment is not None:
            source = Path(options.deployment)
            load_deployment(source)  # a broken directory is bad input, before a work directory exists
            workdir = make_workdir()
            try:
                return cls.create_from(source, workdir, options.images, progress=progress, keep=options.keep)
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
        return cls.create(make_workdir(), options.images, progress=progress, keep=options.keep)

    @property
    def label(self) -> str:
        source = f" from {self.source} (fresh secrets, per-run CA)" if self.source else ""
        return f"ephemeral stack {self.project}{source}, images={self.images} ({SET_DESCRIPTIONS[self.images]})"

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
        if self.images in BUILT_SETS:
            progress(f"{self.images} images, built locally ({SET_DESCRIPTIONS[self.images]}):")
            ensure_images(specs_for(self.images), progress=progress)
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
        real_app = {LOBECHAT_APP} if self.images != "standin" else set()
        return frozenset({CONTAINERS, HOST_PORTS, WRITES} | real_app | self.account_capabilities())

    def accounts(self) -> Accounts:
        """The stack's test user and the console's administrator: `provision` creates both from the run's .env."""
        env = self.deployment.env
        user, password = env.get(TEST_USER_ENV), env.get(TEST_PASSWORD_ENV)
        admin, admin_password = env.get(ADMIN_USERNAME_ENV), env.get(ADMIN_PASSWORD_ENV)
        return Accounts(
            user=Account(user, password) if user and password else None,
            admin=Account(admin, admin_password) if admin and admin_password else None,
        )

    def name_pins(self) -> dict[str, str]:
        return {name: self.address(name) for name in self.public_names()}

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
        return [*names, *EPHEMERAL_SERVICES]

    # --- lifecycle ------------------------------------------------------------------------------------------------
    def up(self, timeout_s: float = 240.0, poll_s: float = 0.5, *, provision: bool = True) -> dict[str, float]:
        """Start and wait until every service is ready (StackStartError as soon as one cannot be), then provision
        it as a user would (`provision`, unless told not to). A provisioned start brings LobeChat up last, once,
        with the client provisioning wrote (instead of starting it, then recreating it)."""
        lobe = self.deployment.lobe.name if self.deployment.lobe is not None else None
        if not provision or lobe not in self.expected_services:
            self._start(timeout_s, poll_s)
            if provision:
                self.provision()
            return self.durations
        self._start(timeout_s, poll_s, without=lobe)
        self.provision()
        if lobe not in self.durations:  # provisioning changed nothing LobeChat reads: start it as it is
            self._start_lobe(lobe)
        self.progress(f"stack {self.project}: healthy and provisioned in {time.monotonic() - self._t0:.1f} s")
        return self.durations

    def _start_lobe(self, lobe: str) -> None:
        """Create (or recreate, when its environment changed) LobeChat and wait until it is ready."""
        self.compose_run("up", "-d", "--no-deps", "--no-build", lobe, timeout_s=180)
        self.wait_ready(lobe, timeout_s=120, fail_fast=True)  # as fast as the start: a crash ends the wait at once
        if lobe not in self.durations:
            self.durations[lobe] = time.monotonic() - self._t0
            self.progress(f"  {lobe:12} {'healthy':24} {self.durations[lobe]:6.1f} s")

    def _start(self, timeout_s: float, poll_s: float, *, without: str | None = None) -> dict[str, float]:
        if self._up_lock is None:
            self._up_lock = contextlib.ExitStack()
            try:
                self._up_lock.enter_context(stack_lock(self.progress, lock_timeout_s()))
            except LockTimeout as exc:
                self._up_lock = None
                raise StackStartError("lock", str(exc)) from None
        t0 = self._t0 = time.monotonic()
        expected = [n for n in self.expected_services if n != without]
        later = f"; {without} after provisioning" if without else ""
        self.progress(
            f"stack {self.project}: starting {len(expected)} services "
            f"(images={self.images}, deadline {timeout_s:.0f} s{later})"
        )
        self._up = subprocess.Popen(
            [*self.compose.compose_command_property, "up", "-d", "--no-build", *(expected if without else [])],
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
            for name in expected:
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
                stderr = self._up.stderr.read() if self._up.stderr else ""
                failed = _failed_service(stderr, expected)
                if failed is not None:  # compose names it (" cache Error …"): an image it could not pull, …
                    name, error = failed
                    image = (
                        self.deployment.compose.services[name].image if name in self.deployment.compose.services else ""
                    )
                    raise StackStartError(
                        name,
                        f"`docker compose up` failed{f' (image {image})' if image else ''}: {error}",
                        self._health_output(name),
                        self.log_tail(name),
                    )
                stuck = next((n for n in expected if n not in self.durations), "compose")
                raise StackStartError(
                    stuck,
                    f"`docker compose up` failed: {_last_line(stderr)}",
                    self._health_output(stuck),
                    self.log_tail(stuck),
                )
            if returncode == 0 and all(n in self.durations for n in expected):
                ready = f"all healthy but {without} (started after provisioning)" if without else "all healthy"
                self.progress(f"stack {self.project}: {ready} in {elapsed:.1f} s")
                self._up = None
                return self.durations
            if elapsed > timeout_s:
                waiting = [n for n in expected if n not in self.durations]
                name = waiting[0] if waiting else "compose"
                raise StackStartError(
                    name,
                    f"not healthy after {timeout_s:.0f} s (waiting for {', '.join(waiting)})",
                    self._health_output(name),
                    self.log_tail(name),
                )
            time.sleep(poll_s)

    def provision(self, **options: bool) -> None:
        """`python -m lobestack provision` for this stack, as a user runs it on a fresh deployment: the console's
        first admin (with the breached-password service of the stack), the provisioning app, LobeChat's app
        (AUTH_LOGTO_ID/SECRET written, lobe recreated) and the test user. StackStartError when it cannot."""
        from lobestack.errors import BadInput as ProvisionInput
        from lobestack.provision import Options, ProvisionFailed, describe, provision

        t0 = time.monotonic()
        lobe = self.deployment.lobe.name if self.deployment.lobe is not None else "lobe"

        def recreate() -> None:
            self._start_lobe(lobe)

        # MinIO is judged by the live layer's S3 checks (with their IDs and fixes), not by the start.
        wanted = Options(create_admin=True, test_user=True, verify_minio=False, **options)
        try:
            report = provision(
                self.root,
                self.http,
                wanted,
                env=self.deployment.env.values,
                recreate=recreate,
                say=lambda line: self.progress(self.redactor(line)),
            )
        except (ProvisionFailed, ProvisionInput) as exc:
            raise StackStartError("logto", f"provisioning failed: {exc}", log_tail=self.log_tail("logto")) from None
        self.deployment = load_deployment(self.root)
        self.redactor.add(self.deployment.secret_values())
        self.provision_s = time.monotonic() - t0
        self.progress(f"stack {self.project}: provisioned in {self.provision_s:.1f} s ({describe(report)})")

    def down(self) -> None:
        """Stop a start still in flight, then remove containers, networks and volumes (bounded)."""
        if self._up is not None and self._up.poll() is None:
            self._up.terminate()
            try:
                self._up.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._up.kill()
        self.progress(f"stack {self.project}: removing containers, network and volumes")
        try:
            self.compose_run("down", "--volumes", "--remove-orphans", "--timeout", "5", check=False, timeout_s=180)
        finally:
            if self._up_lock is not None:
                self._up_lock.close()
                self._up_lock = None

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
        return HttpProbe(resolve=dict.fromkeys(self.public_names(), "127.0.0.1"), ca_file=self.ca_file)

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

    def wait_ready(self, *services: str, timeout_s: float = 90.0, fail_fast: bool = False) -> None:
        """Wait (bounded) until these services are ready again, e.g. after a fault was undone; with `fail_fast`, a
        service that can no longer become ready (exited, restarting, unhealthy) ends the wait at once."""
        deadline = time.monotonic() + timeout_s
        pending = set(services)
        while pending:
            states = {s.name: s for s in self.services()}
            failed = [n for n in sorted(pending) if fail_fast and n in states and states[n].failed]
            if failed:
                name = failed[0]
                raise StackStartError(name, states[name].failed, self._health_output(name), self.log_tail(name))
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
        names = self.public_names()
        app = names[0] if names else APP_DOMAIN
        return "\n".join(
            [
                f"stack kept: project {self.project}, deployment {self.root}",
                f"  reach it:  curl --resolve {app}:443:127.0.0.1 --cacert {self.ca_file} https://{app}/",
                f"  (also {', '.join(names[1:])}; same --resolve/--cacert)",
                f"  check it:  lobestack check prod --deployment {self.root} --ca-file "
                f"{self.ca_file} --exposure-address {self._gateway or host_gateway_ip()} "
                + " ".join(f"--resolve {n}:127.0.0.1" for n in names),
                f"  remove it: python -m lobestack down {self.project}",
            ]
        )


def overlay_name(images: str) -> str:
    """The Compose overlay that swaps a built image set in (standins/docker-compose.<set>.yml; the run's copy)."""
    return f"docker-compose.{images}.yml"


def _pinned_refs(images: str) -> dict[str, str]:
    from lobestack.targets.images import content_tags

    return content_tags(specs_for(images))


def pin_built_images(overlay: Path, images: str) -> str:
    """A built set's overlay with each image named by its exact build context (ImageSpec.content_tag)."""
    text = overlay.read_text(encoding="utf-8")
    for tag, ref in _pinned_refs(images).items():
        text = re.sub(rf"(?m)^(\s*image:\s*){re.escape(tag)}\s*$", lambda m, r=ref: m.group(1) + r, text)
    return text


def built_set_override(deployment: Deployment, images: str) -> dict:
    """A built image set for a deployment's own services, by role (as the set's overlay swaps them by name):
    LobeChat and Logto get the set's (real, or the stand-ins), MinIO (and its one-shot init) the stand-in,
    the PostgreSQL services the locally built real PostgreSQL + pgvector, Nginx the local one. Images only (and the
    Logto stand-in's extra environment); everything else stays the deployment's own."""
    bundle = yaml.safe_load((standins_dir() / overlay_name(images)).read_text(encoding="utf-8"))["services"]
    services: dict[str, dict] = {}
    for name, service in deployment.compose.services.items():
        if service is deployment.lobe:
            services[name] = bundle["lobe"]
        elif service is deployment.logto:
            services[name] = bundle["logto"]
        elif "minio/minio" in service.image_repo:
            services[name] = {"image": bundle["minio"]["image"]}
        elif any(k in service.image_repo for k in ("postgres", "pgvector")):
            services[name] = {"image": bundle["lobe-db"]["image"]}
    # The ephemeral overlay's own services (Nginx in front, the breached-password stand-in) as the bundle swaps them.
    ephemeral = yaml.safe_load(
        (bundle_dir() / "ephemeral" / "docker-compose.ephemeral.yml").read_text(encoding="utf-8")
    )
    for name in ephemeral["services"]:
        services[name] = bundle[name]
    refs = _pinned_refs(images)
    for entry in services.values():
        entry["image"] = refs.get(entry["image"], entry["image"])
    return {"services": services}


def service_networks(spec: dict) -> list[str]:
    """The networks a service of a compose file joins: none with a `network_mode` (host, another service's), the
    project's `default` when it names none."""
    if spec.get("network_mode"):
        return []
    networks = spec.get("networks")
    return ["default"] if networks is None else [str(n) for n in networks]


def attachments(deployment: Deployment) -> tuple[dict[str, dict], dict[str, dict]]:
    """What the ephemeral stack's own services need from any compose layout, by role, never by our names:
    (services, networks) for the run's override.

    - the breached-password stand-in joins every network the deployment's services use, under the name Logto
      calls (api.pwnedpasswords.com), whatever those networks are called; where there is none it can join, on a
      network of its own;
    - LobeChat and Logto (found by image) get the public names pinned to Docker's gateway, where the stack's Nginx
      listens, unless the layout pins them itself (our bundle does)."""
    joined: list[str] = []
    for service in deployment.compose.services.values():
        joined += [n for n in service_networks(service.spec) if n not in joined]
    networks: dict[str, dict] = {}
    if not joined:
        joined, networks = [OWN_NETWORK], {OWN_NETWORK: {}}
    services: dict[str, dict] = {
        "pwned-passwords": {"networks": {n: {"aliases": [PWNED_PASSWORDS_NAME]} for n in joined}}
    }
    names = public_names_of(deployment)
    for service in (deployment.lobe, deployment.logto):
        if service is None or service.spec.get("network_mode"):
            continue
        pinned = {h.split(":", 1)[0] for h in service.extra_hosts}
        missing = [f"{n}:host-gateway" for n in names if n not in pinned]
        if missing:
            services[service.name] = {"extra_hosts": missing}
    return services, networks


def write_run_override(root: Path, *, keep: bool, workdir: Path, owner: str) -> None:
    """This run's own Compose override: owner labels on every container, network and volume, health polled every
    second (the production healthcheck commands unchanged; retries scaled so a service gets as long as in
    production before it counts as unhealthy), and the ephemeral services attached to the layout (`attachments`)."""
    deployment = load_deployment(root)
    attached, own_networks = attachments(deployment)
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
        services[name] = {**entry, **attached.get(name, {})}
    for name in EPHEMERAL_SERVICES:
        services[name] = {"labels": dict(labels), **attached.get(name, {})}
    raw = deployment.compose.data
    override = {
        "services": services,
        "networks": {
            name: {**own_networks.get(name, {}), "labels": dict(labels)}
            for name in [*(raw.get("networks") or {"default": {}}), *own_networks]
        },
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


def _failed_service(stderr: str, services: list[str]) -> tuple[str, str] | None:
    """The first service `docker compose up` reports an error for (its progress line ` NAME Error REASON`)."""
    for line in stderr.splitlines():
        match = re.match(r"\s*(\S+)\s+Error\s+(.*)$", line)
        if match and match.group(1) in services:
            return match.group(1), match.group(2).strip()
    return None


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(no output)"
