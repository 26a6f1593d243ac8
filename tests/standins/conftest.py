"""The one harness of the stand-ins' self-tests (tests/standins/test_*.py).

Each test module gets a `harness`: a private Docker network and the containers the module starts on it, all named
`lobestack-standins-<module>-<id>-…`, labelled `org.lobestack.test=standins`, publishing only on 127.0.0.1, and
always removed (volumes too) when the module ends. Images are the reference set as `tox -e smoke` builds it
(`ensure_images`), used by image id so that a concurrent rebuild of a tag cannot swap an image under a test.
A start waits, bounded, until the container is ready and explains itself when it is not (exit code or the last
thing seen, with the log tail); when a test fails, the log tail of every container it could see is attached to
its report. Without a Docker engine (or without the base image scripts/setup-host makes) every test skips with
the reason."""

from __future__ import annotations

import contextlib
import datetime
import secrets
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PREFIX = "lobestack-standins-"
LABEL = "org.lobestack.test"
LABEL_VALUE = "standins"
LEFTOVER_AGE_S = 1800  # a self-test run takes minutes: anything this old was left by an interrupted run
LOG_TAIL = 4000

# log tails of containers that were removed while their test was failing, for that test's report
_FAILED_LOGS: list[tuple[str, str]] = []
_ACTIVE: dict[str, Started] = {}


class StandinError(AssertionError):
    """A container did not become ready, or exited: the message says what was awaited and what was seen."""


Ready = Callable[["Started"], tuple[bool, str]]


def http_ready(port: int, path: str = "/", *, status: int | None = None, host: str | None = None) -> Ready:
    """Ready once `GET path` on the published `port` answers (with `status`, when given)."""

    def check(c: Started) -> tuple[bool, str]:
        request = urllib.request.Request(c.url(port, path), headers={"Host": host} if host else {})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except (OSError, urllib.error.URLError) as exc:
            return False, f"GET {path}: {exc}"
        return (status is None or code == status), f"GET {path} answered {code}"

    return check


def log_ready(text: str) -> Ready:
    """Ready once the log contains `text`."""

    def check(c: Started) -> tuple[bool, str]:
        return text in c.logs(), f"no {text!r} in the log yet"

    return check


@dataclass
class Started:
    name: str
    container: object  # docker.models.containers.Container
    published: dict[int, int] = field(default_factory=dict)

    def port(self, container_port: int) -> int:
        """The 127.0.0.1 port that `container_port` is published on."""
        if container_port not in self.published:
            self.container.reload()
            binding = self.container.ports.get(f"{container_port}/tcp") or []
            if not binding:
                raise StandinError(f"{self.name}: port {container_port} is not published")
            self.published[container_port] = int(binding[0]["HostPort"])
        return self.published[container_port]

    def url(self, container_port: int, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port(container_port)}{path}"

    def logs(self) -> str:
        return self.container.logs(stdout=True, stderr=True).decode("utf-8", errors="replace")

    def exec(self, cmd: list[str], *, env: dict[str, str] | None = None, user: str = "") -> tuple[int, str]:
        """Run `cmd` in the container: (exit code, stdout and stderr together)."""
        result = self.container.exec_run(cmd, environment=env, user=user)
        return result.exit_code, result.output.decode("utf-8", errors="replace")

    def status(self) -> str:
        self.container.reload()
        return self.container.status

    def wait_exit(self, timeout_s: float = 60) -> int:
        try:
            return int(self.container.wait(timeout=timeout_s)["StatusCode"])
        except Exception as exc:  # requests' ReadTimeout, or the engine's error
            raise StandinError(
                f"{self.name} did not exit within {timeout_s:.0f} s ({exc}); log tail:\n{self.logs()[-LOG_TAIL:]}"
            ) from None

    def wait_ready(self, ready: Ready, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        seen = "nothing yet"
        while True:
            if self.status() in ("exited", "dead"):
                code = self.container.attrs["State"].get("ExitCode")
                raise StandinError(
                    f"{self.name} exited with code {code} before it was ready (last: {seen}); "
                    f"log tail:\n{self.logs()[-LOG_TAIL:]}"
                )
            ok, seen = ready(self)
            if ok:
                return
            if time.monotonic() > deadline:
                raise StandinError(
                    f"{self.name} not ready after {timeout_s:.0f} s (last: {seen}); "
                    f"log tail:\n{self.logs()[-LOG_TAIL:]}"
                )
            time.sleep(0.2)

    def remove(self) -> None:
        _ACTIVE.pop(self.name, None)
        with contextlib.suppress(Exception):
            self.container.remove(force=True, v=True)


class Harness:
    """Containers of one test module on one private network."""

    def __init__(self, client: object, images: dict[str, str], network: object, stem: str) -> None:
        self.client = client
        self.images = images
        self.network = network
        self.stem = stem
        self.started: list[Started] = []
        self.volumes: list[object] = []

    def start(
        self,
        image: str,
        name: str,
        *,
        aliases: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        ports: tuple[int, ...] = (),
        command: list[str] | str | None = None,
        entrypoint: list[str] | str | None = None,
        mounts: dict[str, str] | None = None,
        ready: Ready | None = None,
        timeout_s: float = 60,
    ) -> Started:
        """Start `image` (a role of the reference set: postgres, minio, logto, lobechat, nginx) as
        `<stem>-<name>`; `mounts` maps host paths (or volume names) to `container path[:ro]`."""
        full = f"{self.stem}-{name}"
        volumes = {}
        for source, target in (mounts or {}).items():
            bind, _, mode = target.partition(":")
            volumes[source] = {"bind": bind, "mode": mode or "rw"}
        container = self.client.containers.create(
            self.images.get(image, image),
            name=full,
            command=command,
            entrypoint=entrypoint,
            environment=env or {},
            labels={LABEL: LABEL_VALUE},
            ports={f"{p}/tcp": ("127.0.0.1", None) for p in ports},
            volumes=volumes,
            init=True,
            detach=True,
        )
        started = Started(full, container)
        self.started.append(started)
        _ACTIVE[full] = started
        self.network.connect(container, aliases=[name, *aliases])
        container.start()
        if ready is not None:
            started.wait_ready(ready, timeout_s)
        return started

    @contextlib.contextmanager
    def running(self, image: str, name: str, **kwargs: object) -> Iterator[Started]:
        """A container for one test: removed when the block ends; its log tail goes to the report on failure."""
        started = None
        try:
            started = self.start(image, name, **kwargs)
            yield started
        except BaseException:
            if started is not None:
                _FAILED_LOGS.append((started.name, started.logs()[-LOG_TAIL:]))
            raise
        finally:
            if started is not None:
                started.remove()

    def run_to_exit(self, image: str, name: str, *, timeout_s: float = 60, **kwargs: object) -> tuple[int, str]:
        """Run a container to its end: (exit code, log)."""
        with self.running(image, name, **kwargs) as started:
            code = started.wait_exit(timeout_s)
            return code, started.logs()

    def volume(self, name: str) -> str:
        """A named volume of this module (removed with it)."""
        volume = self.client.volumes.create(f"{self.stem}-{name}", labels={LABEL: LABEL_VALUE})
        self.volumes.append(volume)
        return volume.name

    def close(self) -> None:
        for started in self.started:
            started.remove()
        for volume in self.volumes:
            with contextlib.suppress(Exception):
                volume.remove(force=True)
        with contextlib.suppress(Exception):
            self.network.remove()


def start_tls_proxy(
    harness: Harness, workdir: Path, sites: dict[str, str | tuple[str, str]], *, name: str = "tls"
) -> tuple[Started, Path]:
    """Real Nginx with TLS in front, as the bundle's vhosts: `sites` maps `name:port` (what the browser dials) to
    the upstream `host:port` on the harness network (resolved per request, so it may start later), optionally
    with extra directives; Host (with its port) and X-Forwarded-Proto are passed on. The certificates come
    from a per-module CA, whose file is returned: containers trust it through NODE_EXTRA_CA_CERTS."""
    from lobestack import pki

    names = sorted({site.rsplit(":", 1)[0] for site in sites})
    pki.issue(workdir / "certs", names, workdir / "ca.pem", workdir / "ca-key.pem")
    servers = []
    for site, target in sites.items():
        upstream, extra = (target, "") if isinstance(target, str) else target
        server_name, port = site.rsplit(":", 1)
        servers.append(
            f"server {{ listen {port} ssl; server_name {server_name};\n"
            f"  ssl_certificate /certs/{server_name}/fullchain.pem;"
            f" ssl_certificate_key /certs/{server_name}/privkey.pem;\n"
            f"  location / {{ resolver 127.0.0.11 valid=2s; set $upstream http://{upstream}; proxy_pass $upstream;\n"
            f"    proxy_set_header Host $http_host; proxy_set_header X-Forwarded-Proto $scheme;"
            f" client_max_body_size 0; {extra} }} }}"
        )
    conf = workdir / "nginx.conf"
    conf.write_text("events {}\nhttp {\n" + "\n".join(servers) + "\n}\n")
    for path in (workdir, workdir / "certs", *(workdir / "certs").iterdir()):
        path.chmod(0o755)
    ports = tuple(sorted({int(site.rsplit(":", 1)[1]) for site in sites}))
    proxy = harness.start(
        "nginx",
        name,
        aliases=tuple(names),
        mounts={str(conf): "/etc/nginx/nginx.conf:ro", str(workdir / "certs"): "/certs:ro"},
        ports=ports,
        ready=http_ready(ports[0]),  # plain HTTP to a TLS port: Nginx answers 400, so it listens
    )
    return proxy, workdir / "ca.pem"


def start_pwned_passwords(harness: Harness, workdir: Path, ca_file: Path) -> Started:
    """The breached-password service Logto's password policy calls, as the ephemeral stack runs it
    (compose/ephemeral/pwnedpasswords.conf): api.pwnedpasswords.com on the harness network, with a certificate from
    the module's CA (`start_tls_proxy`'s). Without it a Logto would look that name up on the internet."""
    from lobestack import pki
    from lobestack.render.bundle import bundle_dir

    out = workdir / "pwnedpasswords"
    ca = pki.CertificateAuthority.load(ca_file, ca_file.with_name("ca-key.pem"))
    ca.issue(out, "api.pwnedpasswords.com")
    shutil.copyfile(bundle_dir() / "ephemeral" / "pwnedpasswords.conf", out / "nginx.conf")
    for path in (out, *out.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return harness.start(
        "nginx",
        "pwned-passwords",
        aliases=("api.pwnedpasswords.com",),
        mounts={
            str(out / "nginx.conf"): "/etc/nginx/conf.d/pwnedpasswords.conf:ro",
            str(out): "/etc/lobestack/pwnedpasswords:ro",
        },
        ready=lambda c: (c.exec(["sh", "-c", "kill -0 $(cat /run/nginx.pid)"])[0] == 0, "nginx not started"),
    )


def provision_logto(
    ca_file: Path,
    *,
    endpoint: str,
    admin_endpoint: str,
    app_url: str,
    users: dict[str, str],
    admin: tuple[str, str] | None = None,
) -> tuple[str, str]:
    """What `lobestack provision` does to a fresh Logto, through the same client: the console's first admin, then
    with the admin's Management API token LobeChat's application (its id and its secret from /secrets) and users."""
    from lobestack.probes.http import HttpProbe
    from lobestack.provision.logto import Logto

    logto = Logto(HttpProbe(ca_file=ca_file), endpoint, admin_endpoint)
    admin = admin or ("admin", "Admin-" + secrets.token_urlsafe(12))
    logto.register_first_admin(*admin)
    api = logto.management(logto.admin_token(*admin))
    metadata = {"redirectUris": [f"{app_url}/api/auth/callback/logto"], "postLogoutRedirectUris": [app_url]}
    app = api.create_application({"name": "LobeChat", "type": "Traditional", "oidcClientMetadata": metadata})
    for username, password in users.items():
        api.create_user({"username": username, "password": password, "name": username})
    return app["id"], api.secrets(app["id"])[0]["value"]


@contextlib.contextmanager
def pinned_names(routes: dict[tuple[str, int], tuple[str, int]]) -> Iterator[dict[tuple[str, int], tuple[str, int]]]:
    """Connections to (name, port) go to another address, as `curl --resolve` does: URL, Host, SNI and the
    certificate check stay the public name's (requests and urllib3 in this process). Yields `routes`, which
    a test may change while the block runs."""
    import urllib3.util.connection as connection

    original = connection.create_connection

    def create(address: tuple[str, int], *args: object, **kwargs: object) -> object:
        return original(routes.get(tuple(address), address), *args, **kwargs)

    connection.create_connection = create
    try:
        yield routes
    finally:
        connection.create_connection = original


def _remove_leftovers(client: object) -> None:
    """What an interrupted run left (old enough not to belong to a run in progress on the same engine)."""
    now = datetime.datetime.now(datetime.UTC)

    def old(created: str) -> bool:
        when = datetime.datetime.fromisoformat(created[:19]).replace(tzinfo=datetime.UTC)
        return (now - when).total_seconds() > LEFTOVER_AGE_S

    for container in client.containers.list(all=True, filters={"label": f"{LABEL}={LABEL_VALUE}"}):
        if old(container.attrs["Created"]):
            container.remove(force=True, v=True)
    for network in client.networks.list(filters={"label": f"{LABEL}={LABEL_VALUE}"}):
        if old(network.attrs["Created"]) and not network.attrs.get("Containers"):
            network.remove()


@pytest.fixture(scope="session")
def docker_client() -> object:
    if shutil.which("docker") is None and not Path("/var/run/docker.sock").exists():
        pytest.skip("no Docker engine (scripts/setup-host installs and starts it)")
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        pytest.skip(f"no running Docker engine (scripts/setup-host starts it): {exc}")
    with contextlib.suppress(Exception):
        _remove_leftovers(client)
    return client


@pytest.fixture(scope="session")
def standin_images(docker_client: object, request: pytest.FixtureRequest) -> dict[str, str]:
    """The standin image set, built when missing or stale: role -> image id."""
    from lobestack.errors import BadInput
    from lobestack.targets.images import STANDIN_IMAGES, ensure_images
    from tests.conftest import uncaptured_print

    try:
        ensure_images(STANDIN_IMAGES, progress=uncaptured_print(request))
    except BadInput as exc:
        pytest.skip(str(exc))
    return {spec.directory: docker_client.images.get(spec.content_tag()).id for spec in STANDIN_IMAGES}


@pytest.fixture(scope="module")
def harness(docker_client: object, standin_images: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Harness]:
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    stem = f"{PREFIX}{module}-{secrets.token_hex(3)}"
    network = docker_client.networks.create(stem, labels={LABEL: LABEL_VALUE})
    h = Harness(docker_client, standin_images, network, stem)
    try:
        yield h
    finally:
        h.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, tail in _FAILED_LOGS:
            report.sections.append((f"log of {name} (removed)", tail))
        for name, started in list(_ACTIVE.items()):
            with contextlib.suppress(Exception):
                report.sections.append((f"log of {name}", started.logs()[-LOG_TAIL:]))
    if call.when == "teardown":
        _FAILED_LOGS.clear()
