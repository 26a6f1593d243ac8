"""Render the bundle (compose/) into a deployment directory for one user's domains."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2

from lobestack.deployment.envfile import format_env_line
from lobestack.errors import BadInput
from lobestack.render import inputs
from lobestack.render import secrets as fresh

_ENV_LINE = re.compile(r"^(?P<key>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
SITES = ("app", "auth", "s3")


def bundle_dir() -> Path:
    """The bundle: compose/ of a source checkout, or the copy packed into the wheel."""
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "compose"
    if (checkout / "docker-compose.yml").exists():
        return checkout
    return here.parents[1] / "_bundle"


@dataclass(frozen=True)
class Settings:
    app_domain: str
    auth_domain: str
    s3_domain: str
    admin_port: int = 8443
    cert_dir: str = "/etc/letsencrypt/live"
    cert_name: str | None = None
    http_port: int = 80
    https_port: int = 443
    logto_client_id: str = ""
    logto_client_secret: str = ""
    extra_ca: Path | None = None
    project_name: str = "lobestack"
    # Addresses Nginx listens on; empty: all (IPv4 and IPv6). The ephemeral stack uses loopback + Docker's gateway.
    listen_addresses: tuple[str, ...] = ()

    def validate(self) -> None:
        """Refuse, before anything is written, every value that would not render a working deployment."""
        for option, value in (
            ("--app-domain", self.app_domain),
            ("--auth-domain", self.auth_domain),
            ("--s3-domain", self.s3_domain),
        ):
            inputs.hostname(option, value)
        if len({self.app_domain, self.auth_domain, self.s3_domain}) != 3:
            raise BadInput("--app-domain, --auth-domain and --s3-domain must be three different names")
        if not 1 <= self.admin_port <= 65535 or self.admin_port in (self.http_port, self.https_port):
            raise BadInput(f"--admin-port {self.admin_port} must be a free TCP port other than 80 and 443")
        inputs.nginx_path("--cert-dir", self.cert_dir or "/")
        if self.cert_name is not None:
            inputs.cert_name(self.cert_name)
        inputs.logto_client(self.logto_client_id, self.logto_client_secret)
        inputs.project_name(self.project_name)
        for address in self.listen_addresses:
            inputs.listen_address(address)
        if self.extra_ca is not None:
            inputs.ca_bundle(self.extra_ca)

    def env_values(self) -> dict[str, str]:
        app = f"https://{self.app_domain}"
        auth = f"https://{self.auth_domain}"
        s3 = f"https://{self.s3_domain}"
        return {
            "APP_DOMAIN": self.app_domain,
            "AUTH_DOMAIN": self.auth_domain,
            "S3_DOMAIN": self.s3_domain,
            "LOGTO_ADMIN_PORT": str(self.admin_port),
            "APP_URL": app,
            "NEXTAUTH_URL": f"{app}/api/auth",
            "AUTH_LOGTO_ID": self.logto_client_id,
            "AUTH_LOGTO_SECRET": self.logto_client_secret,
            "AUTH_LOGTO_ISSUER": f"{auth}/oidc",
            "LOGTO_ENDPOINT": auth,
            "LOGTO_ADMIN_ENDPOINT": f"{auth}:{self.admin_port}",
            "S3_ENDPOINT": s3,
            "S3_PUBLIC_DOMAIN": s3,
            "COMPOSE_PROJECT_NAME": self.project_name,
            **fresh.generate(),
        }


def render_env(template: str, values: dict[str, str]) -> str:
    """The .env.example text with its values replaced; comments and order are kept."""
    out = []
    for line in template.splitlines():
        match = _ENV_LINE.match(line)
        if match and match.group("key") in values:
            line = format_env_line(match.group("key"), values[match.group("key")])
        out.append(line)
    return "\n".join(out) + "\n"


def render_site(name: str, settings: Settings, source: Path) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(source / "nginx"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    return env.get_template(f"{name}.conf.j2").render(**vars(settings))


def render(settings: Settings, out: Path, *, force: bool = False) -> list[Path]:
    """Write a complete deployment directory; return the files written. Never loses an existing .env.

    Everything is rendered and written into a private (0700) staging directory first, then renamed into place:
    a new directory as a whole, an existing one file by file. A refusal or a failure before that leaves `out`
    as it was."""
    settings.validate()
    if out.exists() and not out.is_dir():
        raise BadInput("exists and is not a directory", out)
    env_path = out / ".env"
    if os.path.lexists(env_path) and not force:
        raise BadInput(
            "exists; refusing to overwrite its secrets (use --force to replace it; the old one is kept "
            "as .env.bak-<time>)",
            env_path,
        )
    files = _render_files(settings, bundle_dir())
    existing = out.is_dir()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.lobestack-", dir=out if existing else out.parent))
    try:
        for rel, (text, mode) in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            path.chmod(mode)
        written = []
        if existing:
            if os.path.lexists(env_path):
                written.append(_backup(env_path))
            for rel in files:
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, out / rel)
        else:
            staging.chmod(_mkdir_mode(staging))  # what mkdir would have made, now that it is complete
            os.rename(staging, out)
        return written + [out / rel for rel in files]
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _render_files(settings: Settings, source: Path) -> dict[str, tuple[str, int]]:
    """Every file of the deployment directory: relative path -> (text, mode)."""
    files = {
        "docker-compose.yml": ((source / "docker-compose.yml").read_text(encoding="utf-8"), 0o644),
        "minio/init.sh": ((source / "minio" / "init.sh").read_text(encoding="utf-8"), 0o755),
    }
    for site in SITES:
        files[f"nginx/{site}.conf"] = (render_site(site, settings, source), 0o644)
    ca_text = inputs.ca_bundle(settings.extra_ca) if settings.extra_ca else ""
    files["ca/extra-ca.pem"] = (ca_text, 0o644)
    env_text = render_env((source / ".env.example").read_text(encoding="utf-8"), settings.env_values())
    files[".env"] = (env_text, 0o600)
    return files


def _backup(env_path: Path) -> Path:
    """Copy .env to .env.bak-<time> (a name not taken yet: two runs in one second keep both backups)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = env_path.with_name(f".env.bak-{stamp}")
    n = 1
    while os.path.lexists(backup):
        backup = env_path.with_name(f".env.bak-{stamp}-{n}")
        n += 1
    shutil.copy2(env_path, backup)
    return backup


def _mkdir_mode(parent: Path) -> int:
    """The mode a plain mkdir gives under this process's umask (read without changing the umask)."""
    probe = parent / ".mode-probe"
    probe.mkdir()
    try:
        return probe.stat().st_mode & 0o777
    finally:
        probe.rmdir()
