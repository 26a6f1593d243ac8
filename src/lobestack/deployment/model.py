"""One deployment: its `.env`, its Compose file (interpolated from that `.env`) and its Nginx site configs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from lobestack.deployment.compose import ComposeFile, Service, load_compose
from lobestack.deployment.envfile import SECRET_NAME, EnvFile, parse_env_text, raw_secret_values
from lobestack.deployment.limits import read_text
from lobestack.deployment.nginx import NginxConfig, load_nginx
from lobestack.errors import BadInput

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
# The one-shot MinIO set-up script the bundle mounts into minio-init.
INIT_SCRIPT = "minio/init.sh"


class Mask(Protocol):
    """What load_deployment needs of a Redactor: learn secrets, and mask text."""

    def add(self, secrets: list[str]) -> None: ...

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


@dataclass
class Deployment:
    root: Path
    env: EnvFile
    compose: ComposeFile
    nginx: NginxConfig
    # minio/init.sh (None when the deployment has none)
    init_script: str | None = None

    # Roles are found by image so that renamed services are still recognised.
    @cached_property
    def lobe(self) -> Service | None:
        return _one(self.compose.by_image("lobe-chat", "lobehub/"))

    @cached_property
    def logto(self) -> Service | None:
        return _one(self.compose.by_image("logto"))

    @cached_property
    def minio(self) -> Service | None:
        return _one([s for s in self.compose.by_image("minio/minio") if not s.one_shot])

    def app_env(self, key: str) -> str:
        """What LobeChat's container gets for `key` (its Compose environment), else the .env value."""
        return _env_of(self.lobe, key, self.env.get(key))

    def auth_env(self, key: str) -> str:
        """What Logto's container gets for `key` (its Compose environment), else the .env value."""
        return _env_of(self.logto, key, self.env.get(key))

    def s3_env(self, key: str) -> str:
        """What MinIO's container gets for `key` (its Compose environment), else the .env value."""
        return _env_of(self.minio, key, self.env.get(key))

    def origin(self, key: str) -> Origin | None:
        return Origin.of(self.env.get(key))

    def secret_values(self) -> list[str]:
        """Values of secret-named keys: in `.env`, and in the services' environment (also where the Compose file
        holds one itself)."""
        found = self.env.secret_values()
        for service in self.compose.services.values():
            found.extend(v for k, v in service.environment.items() if SECRET_NAME.search(k) and v)
        return found


def _env_of(service: Service | None, key: str, default: str) -> str:
    if service is None:
        return default
    value = service.environment.get(key)
    return default if value is None else str(value)


def _one(services: list[Service]) -> Service | None:
    return services[0] if services else None


def find_compose_file(root: Path) -> Path:
    for name in COMPOSE_NAMES:
        if os.path.lexists(root / name):  # a dangling link or a loop is reported by the reader, not skipped
            return root / name
    raise BadInput(f"no Compose file ({', '.join(COMPOSE_NAMES)})", root)


def load_deployment(root: Path | str, mask: Mask | None = None) -> Deployment:
    """Read and model one deployment directory. With `mask` (the run's Redactor), the raw values of secret-named
    keys are known to it before `.env` is parsed, and every error leaves masked."""
    root = Path(root)
    if not root.is_dir():
        if root.exists():
            raise BadInput("is not a directory (--deployment names the deployment directory)", root)
        if os.path.lexists(root):
            raise BadInput("is a dangling symbolic link or a link loop, not a deployment directory", root)
        raise BadInput("deployment directory not found", root)
    try:
        return _load(root, mask)
    except BadInput as exc:
        raise (exc.masked(mask) if mask is not None else exc) from None


def _load(root: Path, mask: Mask | None) -> Deployment:
    env_path = root / ".env"
    text = read_text(env_path, missing="file not found (render one with `python -m lobestack init`)")
    if mask is not None:
        mask.add(raw_secret_values(text))
    env = parse_env_text(text, env_path)
    if mask is not None:
        mask.add(env.secret_values())
    compose = load_compose(find_compose_file(root), env)
    nginx = load_nginx(root / "nginx")
    script = root / INIT_SCRIPT
    init_script = read_text(script) if os.path.lexists(script) else None
    return Deployment(root=root, env=env, compose=compose, nginx=nginx, init_script=init_script)
