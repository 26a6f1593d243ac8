"""One deployment: its `.env`, its Compose file (interpolated from that `.env`) and its Nginx site configs."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from lobestack.deployment.certificates import CertificateSource, certificate_source
from lobestack.deployment.compose import ComposeProject, EnvValue, Service, load_compose
from lobestack.deployment.envfile import SECRET_NAME, EnvFile, parse_env_text, raw_secret_values, url_passwords
from lobestack.deployment.known_values import is_public
from lobestack.deployment.limits import read_text
from lobestack.deployment.nginx import NginxConfig, load_nginx, load_nginx_conf, not_read
from lobestack.errors import BadInput

# The one-shot MinIO set-up script the bundle mounts into minio-init.
INIT_SCRIPT = "minio/init.sh"
# What the roles run, for images that do not say: LobeChat's server entry point, Logto's CLI and start script,
# MinIO's server with its console address.
_LOBE_COMMAND = re.compile(r"\bstartServer\.js\b")
_LOGTO_COMMAND = re.compile(r"\bnpm run cli db seed\b|\bnpm run alteration deploy\b")
_MINIO_COMMAND = re.compile(r"(^|\s)(minio\s+)?server\s+\S+.*--console-address\b")
# Reverse proxies other than Nginx, by the last part of their image's repository: what they front is not read.
OTHER_PROXIES = {"caddy": "Caddy", "traefik": "Traefik", "haproxy": "HAProxy", "envoy": "Envoy"}


class Mask(Protocol):
    """What load_deployment needs of a Redactor: learn secrets and public names, and mask text."""

    def add(self, secrets: list[str]) -> None: ...

    def keep(self, names: Iterable[str]) -> None: ...

    def __call__(self, text: str) -> str: ...


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        if not parts.scheme or not parts.hostname:
            return None
        default = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, port or default)

    def __str__(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{self.host}" + ("" if self.port == default else f":{self.port}")


def join_url(base: str, path: str) -> str:
    """`base` and `path` joined with one slash, whatever slashes either has (Logto's issuer is its ENDPOINT + /oidc
    whether ENDPOINT ends with '/' or not)."""
    return base.rstrip("/") + "/" + path.lstrip("/")


@dataclass
class Deployment:
    root: Path
    env: EnvFile
    compose: ComposeProject
    nginx: NginxConfig
    # minio/init.sh (None when the deployment has none)
    init_script: str | None = None

    # Roles are found by what a service runs, its image, else its command (a mirror or a local build of the same
    # software), never by its name: renamed services are still recognised.
    @cached_property
    def lobe(self) -> Service | None:
        return _one(self.compose.by_image("lobe-chat", "lobehub/") or self._running(_LOBE_COMMAND))

    @cached_property
    def logto(self) -> Service | None:
        return _one(self.compose.by_image("logto") or self._running(_LOGTO_COMMAND))

    @cached_property
    def minio(self) -> Service | None:
        # minio/minio, quay.io/minio/minio, bitnami/minio: the server, not a one-shot `mc` job of the same image
        servers = [s for s in self.compose.services.values() if s.image_repo.rsplit("/", 1)[-1] == "minio"]
        servers = servers or self._running(_MINIO_COMMAND)
        return _one([s for s in servers if not s.one_shot])

    def _running(self, command: re.Pattern[str]) -> list[Service]:
        return [s for s in self.compose.services.values() if command.search(s.start_command)]

    @cached_property
    def certificates(self) -> CertificateSource:
        """Whether the TLS certificates come from a private CA (that the services must be told to trust)."""
        return certificate_source(self.root, self.nginx)

    def app_env(self, key: str) -> str:
        """What LobeChat's container gets for `key` ("" when it gets nothing)."""
        return _env_of(self.lobe, key)

    def auth_env(self, key: str) -> str:
        """What Logto's container gets for `key` ("" when it gets nothing)."""
        return _env_of(self.logto, key)

    def s3_env(self, key: str) -> str:
        """What MinIO's container gets for `key` ("" when it gets nothing)."""
        return _env_of(self.minio, key)

    def container_var(self, service: Service | None, key: str) -> EnvValue | None:
        """One variable of a container's environment, with where it is set and the variables it was built from."""
        return service.env.get(key) if service is not None else None

    def where_var(self, service: Service | None, key: str) -> str:
        """Where to fix a container's variable: the `.env` line when the value is one `.env` variable as it is,
        else the line that sets it (the compose file or an env_file); the service when nothing sets it."""
        value = self.container_var(service, key)
        if value is not None:
            uses = value.uses
            if len(uses) == 1 and uses[0] in self.env.values and self.env.values[uses[0]] == value.value:
                return self.env.where(uses[0])
            if value.where is not None:
                return str(value.where)
        if service is not None:
            return self.compose.where(service, "environment")
        return self.compose.files[0]

    def source_of(self, service: Service | None, key: str) -> str:
        """How a container's variable gets its value, for a finding, when it is not the .env key of the same name:
        ` (from .env LOGTO_ENDPOINT)`, else ""."""
        value = self.container_var(service, key)
        uses = [u for u in (value.uses if value else ()) if u in self.env.values]
        if uses == [key]:
            return ""
        return f" (from .env {', '.join(uses)})" if uses else ""

    def public_url(self, key: str) -> str:
        """A public URL by the bundle's `.env` name (APP_URL, LOGTO_ENDPOINT, LOGTO_ADMIN_ENDPOINT, S3_ENDPOINT,
        S3_PUBLIC_DOMAIN): the `.env` value where the layout has that key (the bundle's: the owner's intent, even
        while a container is misconfigured), else what the service of that role gets (any other layout), without a
        trailing slash so that paths join cleanly. "" when neither has it."""
        value = self.env.get(key)
        if not value and key in _PUBLIC_URLS:
            role, name = _PUBLIC_URLS[key]
            value = _env_of(getattr(self, role), name)
        return value.rstrip("/")

    def origin(self, key: str) -> Origin | None:
        return Origin.of(self.public_url(key))

    def origin_of(self, service: Service | None, key: str) -> Origin | None:
        """The origin of a URL a container gets."""
        return Origin.of(_env_of(service, key))

    def secret_values(self) -> list[str]:
        """Secret values from .env and from what containers get (env_files and literals included)."""
        return secret_values_of(self.env, self.compose)


# The bundle's public-URL keys, and the role and variable that carry the same URL in any layout.
_PUBLIC_URLS = {
    "APP_URL": ("lobe", "APP_URL"),
    "LOGTO_ENDPOINT": ("logto", "ENDPOINT"),
    "LOGTO_ADMIN_ENDPOINT": ("logto", "ADMIN_ENDPOINT"),
    "S3_ENDPOINT": ("lobe", "S3_ENDPOINT"),
    "S3_PUBLIC_DOMAIN": ("lobe", "S3_PUBLIC_DOMAIN"),
}


def _env_of(service: Service | None, key: str) -> str:
    if service is None:
        return ""
    return service.environment.get(key, "")


def _one(services: list[Service]) -> Service | None:
    return services[0] if services else None


def load_deployment(
    root: Path | str,
    mask: Mask | None = None,
    nginx_conf: Path | str | None = None,
    nginx_prefix: Path | str | None = None,
) -> Deployment:
    """Read and model one deployment directory. With `mask` (the run's Redactor), the raw values of secret-named
    keys are known to it before `.env` is parsed, and every error leaves masked. The Nginx config is `nginx_conf`
    (a main nginx.conf and its includes, e.g. a server's /etc/nginx/nginx.conf; relative paths from `nginx_prefix`,
    by default the conf's directory, as `nginx -p` sets it) when given, else the site configs
    in nginx/; a deployment with neither is modelled without one, saying why (another proxy in front, or none
    read)."""
    root = Path(root)
    if not root.is_dir():
        if root.exists():
            raise BadInput("is not a directory (--deployment names the deployment directory)", root)
        if os.path.lexists(root):
            raise BadInput("is a dangling symbolic link or a link loop, not a deployment directory", root)
        raise BadInput("deployment directory not found", root)
    try:
        conf = Path(nginx_conf) if nginx_conf is not None else None
        return _load(root, mask, conf, Path(nginx_prefix) if nginx_prefix is not None else None)
    except BadInput as exc:
        raise (exc.masked(mask) if mask is not None else exc) from None


def _load(root: Path, mask: Mask | None, nginx_conf: Path | None, nginx_prefix: Path | None) -> Deployment:
    env_path = root / ".env"
    text = read_text(env_path, missing="file not found (render one with `python -m lobestack init`)")
    if mask is not None:
        mask.add(raw_secret_values(text))
    env = parse_env_text(text, env_path)
    if mask is not None:
        mask.add(env.secret_values())
    compose = load_compose(root, env)
    if mask is not None:  # what containers get from env_files and literals is secret too
        mask.add(secret_values_of(env, compose))
        mask.keep(compose.services)  # service names stay readable where a part of a secret is the same text
    if nginx_conf is not None:
        nginx = load_nginx_conf(nginx_conf, shown=root, prefix=nginx_prefix)
    elif os.path.lexists(root / "nginx"):
        nginx = load_nginx(root / "nginx", root)
    else:
        nginx = not_read(root / "nginx", _why_no_nginx(root, compose))
    script = root / INIT_SCRIPT
    init_script = read_text(script) if os.path.lexists(script) else None
    return Deployment(root=root, env=env, compose=compose, nginx=nginx, init_script=init_script)


def _why_no_nginx(root: Path, compose: ComposeProject) -> str:
    for service in compose.services.values():
        kind = OTHER_PROXIES.get(service.image_repo.rsplit("/", 1)[-1])
        if kind is not None:
            return f"the proxy in front is {kind} (service {service.name}), which the gate does not read"
    if (root / "Caddyfile").is_file():
        return "the proxy in front is Caddy (Caddyfile), which the gate does not read"
    return "no Nginx config read (no nginx/ directory; --nginx-conf FILE reads a server's nginx.conf)"


def secret_values_of(env: EnvFile, compose: ComposeProject) -> list[str]:
    """Secret values of .env and of what containers get (URL passwords included), less the public ones
    (deployment/known_values.py)."""
    values = env.secret_values()
    for service in compose.services.values():
        values += [
            v
            for k, v in service.environment.items()
            if SECRET_NAME.search(k) and v and v not in values and not is_public(v)
        ]
        values += [p for p in url_passwords(service.environment.values()) if p not in values]
    return values
