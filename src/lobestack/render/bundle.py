"""Render the bundle (compose/) into a deployment directory for one user's domains."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2

from lobestack.deployment.envfile import format_env_line
from lobestack.errors import BadInput
from lobestack.render import secrets as fresh

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
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
        for option, value in (
            ("--app-domain", self.app_domain),
            ("--auth-domain", self.auth_domain),
            ("--s3-domain", self.s3_domain),
        ):
            if not _HOSTNAME.match(value):
                raise BadInput(f"{option} {value!r} is not a fully qualified DNS name (e.g. lobe.example.com)")
        if len({self.app_domain, self.auth_domain, self.s3_domain}) != 3:
            raise BadInput("--app-domain, --auth-domain and --s3-domain must be three different names")
        if not 1 <= self.admin_port <= 65535 or self.admin_port in (self.http_port, self.https_port):
            raise BadInput(f"--admin-port {self.admin_port} must be a free TCP port other than 80 and 443")
        if bool(self.logto_client_id) != bool(self.logto_client_secret):
            raise BadInput("give --logto-client-id and --logto-client-secret together")
        if self.extra_ca is not None and not self.extra_ca.is_file():
            raise BadInput("file not found", self.extra_ca)

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
    """Write a complete deployment directory; return the files written. Never loses an existing .env."""
    settings.validate()
    source = bundle_dir()
    env_path = out / ".env"
    if env_path.exists() and not force:
        raise BadInput(
            "exists; refusing to overwrite its secrets (use --force to replace it; the old one is kept "
            "as .env.bak-<time>)",
            env_path,
        )
    if out.exists() and not out.is_dir():
        raise BadInput("exists and is not a directory", out)
    written: list[Path] = []

    def write(rel: str, text: str, mode: int = 0o644) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
        written.append(path)

    if env_path.exists():
        backup = out / f".env.bak-{time.strftime('%Y%m%d-%H%M%S')}"
        shutil.copy2(env_path, backup)
        written.append(backup)
    write("docker-compose.yml", (source / "docker-compose.yml").read_text(encoding="utf-8"))
    write("minio/init.sh", (source / "minio" / "init.sh").read_text(encoding="utf-8"), 0o755)
    for site in SITES:
        write(f"nginx/{site}.conf", render_site(site, settings, source))
    ca_text = settings.extra_ca.read_text(encoding="utf-8") if settings.extra_ca else ""
    write("ca/extra-ca.pem", ca_text)
    write(".env", render_env((source / ".env.example").read_text(encoding="utf-8"), settings.env_values()), 0o600)
    return written
