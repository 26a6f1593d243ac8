"""Facts about one server, read through a testinfra host (`local://`, `ssh://user@server`, `docker://…`): Docker and
the deployment's containers, listening sockets, Nginx (on the host, or the stack's own `nginx` container), time,
disk and firewall. probes/gpu.py adds the GPU facts on the same object.

Every command runs through `host.run` under `timeout` (no probe can hang a run), so the project's tests can hand in
a testinfra host whose commands answer recorded outputs. Probes return facts or raise HostProbeError with a sentence
that says what failed; the checks (checks/host, checks/gpu) judge the facts. Answers are read once per run and
shared between checks, which run concurrently."""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lobestack.context import CheckContext
from lobestack.deployment import Deployment
from lobestack.probes import ProbeError

T = TypeVar("T")
LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$")
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")


class HostProbeError(ProbeError):
    """A fact could not be read; `str()` says which and why (for the finding)."""


@dataclass(frozen=True)
class Answer:
    """One command's outcome on the host."""

    command: str
    rc: int
    stdout: str
    stderr: str
    timeout_s: float

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def not_found(self) -> bool:
        return self.rc == 127

    @property
    def timed_out(self) -> bool:
        return self.rc in (124, 137)

    def why(self) -> str:
        """A short reason for a failed command: timed out, or the first line of its error output (Docker, curl and
        systemd put the cause there, advice after it)."""
        if self.timed_out:
            return f"timed out after {self.timeout_s:g} s"
        lines = [line.strip() for line in (self.stderr or self.stdout).strip().splitlines() if line.strip()]
        return lines[0] if lines else f"exit code {self.rc}"


def is_loopback(address: str) -> bool:
    return bool(LOOPBACK.match(address.split("%", 1)[0]))


# --- Docker -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DockerInfo:
    version: str
    runtimes: tuple[str, ...]
    root_dir: str


@dataclass(frozen=True)
class Binding:
    container_port: str  # "3210/tcp"
    host_ip: str
    host_port: int


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    service: str
    status: str  # created, running, paused, restarting, exited, dead
    health: str  # "" (no healthcheck), starting, healthy, unhealthy
    health_output: str
    restart_count: int
    exit_code: int | None
    privileged: bool
    mounts: tuple[str, ...]  # sources
    bindings: tuple[Binding, ...]

    @property
    def short(self) -> str:
        return f"{self.service} ({self.name})"

    @classmethod
    def from_inspect(cls, data: dict[str, Any]) -> Container:
        state = data.get("State") or {}
        health = state.get("Health") or {}
        log = health.get("Log") or []
        labels = (data.get("Config") or {}).get("Labels") or {}
        host_config = data.get("HostConfig") or {}
        ports = (data.get("NetworkSettings") or {}).get("Ports") or {}
        bindings = tuple(
            Binding(port, b.get("HostIp") or "0.0.0.0", int(b.get("HostPort") or 0))
            for port, bound in sorted(ports.items())
            for b in bound or []
        )
        return cls(
            id=data.get("Id", "")[:12],
            name=data.get("Name", "").lstrip("/"),
            service=labels.get("com.docker.compose.service", "?"),
            status=state.get("Status", ""),
            health=health.get("Status", ""),
            health_output=(log[-1].get("Output", "") if log else "").strip(),
            restart_count=int(data.get("RestartCount") or 0),
            exit_code=state.get("ExitCode"),
            privileged=bool(host_config.get("Privileged")),
            mounts=tuple(m.get("Source", "") for m in data.get("Mounts") or []),
            bindings=bindings,
        )


# --- Nginx --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nginx:
    """Where Nginx runs: `container` (the deployment's `nginx` service) or `host`."""

    where: str
    container: Container | None = None

    def describe(self) -> str:
        return f"Nginx in container {self.container.name}" if self.container else "Nginx on the host"


def split_nginx_dump(text: str) -> dict[str, str]:
    """`nginx -T` output -> {path: content} of every configuration file it loaded."""
    files: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        match = re.match(r"^# configuration file (.+):\r?\n?$", line)
        if match:
            if current is not None:
                files[current] = _dumped("".join(lines))
            current, lines = match.group(1), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        files[current] = _dumped("".join(lines))
    return files


def _dumped(text: str) -> str:
    # nginx -T writes each file's bytes and then one line feed of its own.
    return text[:-1] if text.endswith("\n") else text


# --- time, disk, firewall -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeSync:
    source: str  # "timedatectl", "chronyc" or "" (neither could answer)
    synchronised: bool
    detail: str


@dataclass(frozen=True)
class Usage:
    mount: str
    size_kib: int
    free_kib: int
    paths: tuple[str, ...]

    @property
    def free_gib(self) -> float:
        return self.free_kib / 1024**2

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free_kib / self.size_kib if self.size_kib else 0.0


def parse_df(text: str) -> dict[str, tuple[str, int, int]]:
    """`df -P -k PATH…` -> {path's mount point: (mount, size KiB, available KiB)} in the order given."""
    rows = {}
    for line in text.strip().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 6 and fields[1].isdigit() and fields[3].isdigit():
            rows[" ".join(fields[5:])] = (" ".join(fields[5:]), int(fields[1]), int(fields[3]))
    return rows


def _ports_in(spec: str) -> set[int]:
    """'22', '22/tcp', '8000:8100/tcp', '{ 22, 80 }', '25430-25440' -> the port numbers named."""
    ports: set[int] = set()
    for part in re.split(r"[,\s{}]+", spec):
        part = part.split("/", 1)[0]
        match = re.fullmatch(r"(\d+)(?:[:-](\d+))?", part)
        if match:
            low = int(match.group(1))
            high = int(match.group(2) or low)
            if high - low <= 65535:
                ports.update(range(low, high + 1))
    return ports


def parse_ufw(text: str) -> list[tuple[str, set[int]]]:
    """`ufw status` (active) -> [(rule line, ports it allows)] for ALLOW/LIMIT rules."""
    rules = []
    for line in text.splitlines():
        match = re.match(r"^(?P<to>\S+(?: \(v6\))?)\s+(?P<action>ALLOW|LIMIT)(?: IN)?\s+(?P<from>.+?)\s*$", line)
        if match:
            rules.append((line.strip(), _ports_in(match.group("to").removesuffix(" (v6)"))))
    return rules


def parse_nft(text: str) -> list[tuple[str, set[int]]]:
    """`nft list ruleset` -> [(rule, ports it accepts)] for accept rules of base chains hooked on input (the host's
    own traffic; Docker's published ports pass through forward chains, which are Docker's to manage)."""
    rules = []
    chain_is_input = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("chain "):
            chain_is_input = False
        elif line.startswith("type ") and " hook input " in f" {line} ":
            chain_is_input = True
        elif chain_is_input and line.endswith("accept") and "dport" in line:
            match = re.search(r"dport\s+(\{[^}]*\}|\S+)", line)
            if match:
                rules.append((line, _ports_in(match.group(1))))
    return rules


# --- the facts object ---------------------------------------------------------------------------------------------


class HostFacts:
    """One server as testinfra reaches it, and the deployment directory that says what should run there."""

    def __init__(self, host: Any, deployment: Deployment, context: CheckContext | None = None, label: str = "") -> None:
        self.host = host
        self.deployment = deployment
        self.context = context or CheckContext()
        self.label = label or getattr(getattr(host, "backend", None), "get_pytest_id", lambda: "host")()
        self._memo: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _once(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a fact once per run (concurrent checks wait for the first), errors included."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                try:
                    self._memo[key] = (True, compute())
                except HostProbeError as exc:
                    self._memo[key] = (False, exc)
            ok, value = self._memo[key]
        if not ok:
            raise value
        return value

    def run(self, script: str, timeout_s: float | None = None) -> Answer:
        """Run a shell script on the host, bounded: killed after `timeout_s` (default --probe-timeout)."""
        limit = timeout_s or self.context.probe_timeout_s
        result = self.host.run("timeout -k 2 %s sh -c %s", f"{limit:g}", script)
        return Answer(script, result.rc, result.stdout, result.stderr, limit)

    # --- the deployment --------------------------------------------------------------------------------------------
    @property
    def project(self) -> str:
        return self.deployment.env.get("COMPOSE_PROJECT_NAME") or "lobestack"

    @property
    def expected_services(self) -> list[str]:
        """Services of the compose file that must run: not in a profile, not one-shot jobs."""
        return [n for n, s in self.deployment.compose.services.items() if not s.spec.get("profiles") and not s.one_shot]

    def internal_ports(self) -> dict[int, str]:
        """Host ports the deployment publishes -> the service that publishes them (every service, profiles too)."""
        return {
            b.host_port: name
            for name, service in self.deployment.compose.services.items()
            for b in service.ports
            if b.host_port is not None
        }

    def uses_gpu_profile(self) -> str | None:
        """Why the deployment counts as using the gpu profile (None: it does not)."""
        profiles = {p.strip() for p in self.deployment.env.get("COMPOSE_PROFILES").split(",") if p.strip()}
        if "gpu" in profiles:
            return "COMPOSE_PROFILES includes gpu"
        gpu_services = [
            n for n, s in self.deployment.compose.services.items() if "gpu" in (s.spec.get("profiles") or [])
        ]
        proxy = self.deployment.env.get("OLLAMA_PROXY_URL")
        if proxy and any(f"//{name}:" in proxy or proxy.endswith(f"//{name}") for name in gpu_services):
            return f"OLLAMA_PROXY_URL={proxy}"
        return None

    # --- Docker ----------------------------------------------------------------------------------------------------
    def docker_info(self) -> DockerInfo:
        def read() -> DockerInfo:
            fmt = (
                '{"version": {{json .ServerVersion}}, "runtimes": {{json .Runtimes}}, "root": {{json .DockerRootDir}}}'
            )
            answer = self.run(f"docker info --format {shlex.quote(fmt)}")
            if answer.not_found:
                raise HostProbeError("the docker CLI is not installed (docker: not found)")
            if not answer.ok:
                raise HostProbeError(f"the Docker daemon does not answer: {answer.why()}")
            try:
                data = json.loads(answer.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                raise HostProbeError(f"unreadable `docker info` answer: {answer.stdout[:200]!r}") from None
            return DockerInfo(
                data.get("version") or "", tuple(sorted(data.get("runtimes") or {})), data.get("root") or ""
            )

        return self._once("docker_info", read)

    def compose_version(self) -> str:
        def read() -> str:
            answer = self.run("docker compose version")
            if not answer.ok:
                raise HostProbeError(f"`docker compose version` failed: {answer.why()}")
            return answer.stdout.strip()

        return self._once("compose_version", read)

    def _inspect(self, ids: list[str]) -> list[dict[str, Any]]:
        answer = self.run("docker inspect " + " ".join(shlex.quote(i) for i in ids))
        if not answer.ok:
            raise HostProbeError(f"`docker inspect` failed: {answer.why()}")
        try:
            return json.loads(answer.stdout)
        except ValueError:
            raise HostProbeError(f"unreadable `docker inspect` answer: {answer.stdout[:200]!r}") from None

    def containers(self) -> list[Container]:
        """Every container of the deployment's Compose project (one-off `compose run` containers left out)."""

        def read() -> list[Container]:
            self.docker_info()
            label = shlex.quote(f"label=com.docker.compose.project={self.project}")
            answer = self.run(f"docker ps -a -q --no-trunc --filter {label}")
            if not answer.ok:
                raise HostProbeError(f"`docker ps` failed: {answer.why()}")
            ids = answer.stdout.split()
            if not ids:
                return []
            found = []
            for data in self._inspect(ids):
                labels = (data.get("Config") or {}).get("Labels") or {}
                if labels.get("com.docker.compose.oneoff", "False") != "True":
                    found.append(Container.from_inspect(data))
            return sorted(found, key=lambda c: (c.service, c.name))

        return self._once("containers", read)

    def restart_counts_later(self) -> dict[str, int]:
        """Restart counts of the same containers again, --restart-window seconds after the first sample."""

        def read() -> dict[str, int]:
            first = self.containers()
            if not first:
                return {}
            time.sleep(self.context.restart_window_s)
            answer = self.run("docker inspect --format '{{.Id}} {{.RestartCount}}' " + " ".join(c.id for c in first))
            counts = {}
            for line in answer.stdout.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1].isdigit():
                    counts[parts[0][:12]] = int(parts[1])
            return counts

        return self._once("restart_counts_later", read)

    def volume_dirs(self) -> list[str]:
        label = shlex.quote(f"label=com.docker.compose.project={self.project}")
        answer = self.run(f"docker volume ls -q --filter {label}")
        names = answer.stdout.split() if answer.ok else []
        if not names:
            return []
        answer = self.run("docker volume inspect --format '{{.Mountpoint}}' " + " ".join(map(shlex.quote, names)))
        return [line.strip() for line in answer.stdout.splitlines() if line.strip()] if answer.ok else []

    # --- sockets ---------------------------------------------------------------------------------------------------
    def listening_tcp(self) -> list[tuple[str, int]]:
        """(address, port) of every listening TCP socket (testinfra's socket module: ss, else netstat)."""

        def read() -> list[tuple[str, int]]:
            try:
                sockets = self.host.socket.get_listening_sockets()
            except (RuntimeError, NotImplementedError, AssertionError) as exc:
                raise HostProbeError(f"cannot list listening sockets: {exc}") from None
            found = []
            for spec in sockets:
                if not spec.startswith("tcp://"):
                    continue
                address, _, port = spec[len("tcp://") :].rpartition(":")
                found.append((address.split("%", 1)[0], int(port)))
            return sorted(set(found))

        return self._once("listening_tcp", read)

    # --- Nginx -----------------------------------------------------------------------------------------------------
    def nginx(self) -> Nginx:
        """The stack's `nginx` container when the project has one, else Nginx installed on the host."""

        def find() -> Nginx:
            try:
                containers = self.containers()
            except HostProbeError:
                containers = []
            for container in containers:
                if container.service == "nginx":
                    return Nginx("container", container)
            if self.run("command -v nginx || test -x /usr/sbin/nginx").ok:
                return Nginx("host")
            raise HostProbeError(
                f"no Nginx found: no `nginx` container in Compose project {self.project} and no nginx on the host"
            )

        return self._once("nginx", find)

    def in_nginx(self, script: str, timeout_s: float | None = None) -> Answer:
        """Run a shell script where Nginx runs: in its container (`docker exec`), or on the host."""
        nginx = self.nginx()
        if nginx.container is not None:
            return self.run(f"docker exec {nginx.container.id} sh -c {shlex.quote(script)}", timeout_s)
        return self.run(script, timeout_s)

    def nginx_test(self) -> Answer:
        return self._once("nginx_test", lambda: self.in_nginx("PATH=$PATH:/usr/sbin nginx -t"))

    def nginx_files(self) -> dict[str, str]:
        """What Nginx loads: {path: content} from `nginx -T` (a configuration that fails `nginx -t` shows none)."""

        def read() -> dict[str, str]:
            answer = self.in_nginx("PATH=$PATH:/usr/sbin nginx -T")
            if not answer.ok:
                raise HostProbeError(f"`nginx -T` failed ({self.nginx().describe()}): {answer.why()}")
            return split_nginx_dump(answer.stdout)

        return self._once("nginx_files", read)

    def nginx_master(self) -> str:
        """The running master process's command line, read from Nginx's pid file (a finding-ready error if none)."""
        nginx = self.nginx()
        if nginx.container is not None and nginx.container.status != "running":
            raise HostProbeError(f"Nginx is not running: container {nginx.container.name} is {nginx.container.status}")
        pid_file = "/run/nginx.pid"
        try:
            main = next(iter(self.nginx_files().values()), "")
            match = re.search(r"^\s*pid\s+([^;\s]+)\s*;", main, re.M)
            if match:
                pid_file = match.group(1)
        except HostProbeError:
            pass
        answer = self.in_nginx(f'p=$(cat {shlex.quote(pid_file)}) && tr "\\0" " " < /proc/"$p"/cmdline')
        if not answer.ok or "nginx" not in answer.stdout:
            raise HostProbeError(
                f"Nginx is not running ({nginx.describe()}): no live master process behind {pid_file} ({answer.why()})"
            )
        return answer.stdout.strip()

    def read_in_nginx(self, path: str) -> Answer:
        """Read a file as Nginx's master would (root, where Nginx runs)."""
        return self.in_nginx(f"cat {shlex.quote(path)}")

    def file_state(self, path: str) -> str:
        """'readable', 'missing' or 'unreadable', as seen where Nginx runs."""
        quoted = shlex.quote(path)
        answer = self.in_nginx(
            f"if test -r {quoted}; then echo readable; elif test -e {quoted}; then echo unreadable; "
            "else echo missing; fi"
        )
        state = answer.stdout.strip()
        if state not in ("readable", "missing", "unreadable"):
            raise HostProbeError(f"cannot test {path} ({self.nginx().describe()}): {answer.why()}")
        return state

    # --- time --------------------------------------------------------------------------------------------------------
    def time_sync(self) -> TimeSync:
        def read() -> TimeSync:
            tried = []
            answer = self.run("timedatectl show -p NTPSynchronized -p NTP")
            values = dict(line.split("=", 1) for line in answer.stdout.splitlines() if "=" in line)
            if answer.ok and "NTPSynchronized" in values:
                synced = values["NTPSynchronized"] == "yes"
                detail = f"timedatectl: NTPSynchronized={values['NTPSynchronized']}, NTP={values.get('NTP', '?')}"
                return TimeSync("timedatectl", synced, detail)
            tried.append(
                "timedatectl is not installed" if answer.not_found else f"timedatectl cannot answer ({answer.why()})"
            )
            answer = self.run("chronyc -n tracking")
            if answer.ok:
                status = re.search(r"^Leap status\s*:\s*(.+)$", answer.stdout, re.M)
                offset = re.search(r"^System time\s*:\s*(.+)$", answer.stdout, re.M)
                leap = status.group(1).strip() if status else "?"
                detail = f"chronyc tracking: Leap status {leap}" + (
                    f", system time {offset.group(1).strip()}" if offset else ""
                )
                return TimeSync("chronyc", leap == "Normal", detail)
            tried.append("chronyc is not installed" if answer.not_found else f"chronyc cannot answer ({answer.why()})")
            return TimeSync("", False, " and ".join(tried))

        return self._once("time_sync", read)

    # --- disk --------------------------------------------------------------------------------------------------------
    def disk_usage(self) -> list[Usage]:
        def read() -> list[Usage]:
            paths = [self.docker_info().root_dir, *self.volume_dirs()]
            paths = [p for p in dict.fromkeys(paths) if p]
            usages: dict[str, Usage] = {}
            for path in paths:
                answer = self.run(f"df -P -k {shlex.quote(path)}")
                rows = parse_df(answer.stdout)
                if not answer.ok or not rows:
                    raise HostProbeError(f"`df {path}` failed: {answer.why()}")
                mount, size, free = next(iter(rows.values()))
                known = usages.get(mount)
                usages[mount] = Usage(mount, size, free, (*(known.paths if known else ()), path))
            return list(usages.values())

        return self._once("disk_usage", read)

    # --- firewall ----------------------------------------------------------------------------------------------------
    def firewall_rules(self) -> dict[str, list[tuple[str, set[int]]]]:
        """{"ufw": rules, "nftables": rules} of the firewalls in use (an inactive or absent one is left out)."""

        def read() -> dict[str, list[tuple[str, set[int]]]]:
            found: dict[str, list[tuple[str, set[int]]]] = {}
            answer = self.run("ufw status")
            if answer.ok and re.search(r"^Status: active", answer.stdout, re.M):
                found["ufw"] = parse_ufw(answer.stdout)
            elif not answer.ok and not answer.not_found and "Status:" not in answer.stdout:
                raise HostProbeError(f"ufw is installed but `ufw status` failed: {answer.why()} (run with --sudo)")
            answer = self.run("nft list ruleset")
            if answer.ok and answer.stdout.strip():
                found["nftables"] = parse_nft(answer.stdout)
            elif not answer.ok and not answer.not_found:
                raise HostProbeError(
                    f"nft is installed but `nft list ruleset` failed: {answer.why()} (run with --sudo)"
                )
            return found

        return self._once("firewall_rules", read)
