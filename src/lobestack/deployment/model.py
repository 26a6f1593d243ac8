"""One deployment: its `.env`, its Compose file (interpolated from that `.env`) and its Nginx site configs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from lobestack.deployment.compose import ComposeFile, Service, load_compose
from lobestack.deployment.envfile import EnvFile, load_env
from lobestack.deployment.nginx import NginxConfig, load_nginx
from lobestack.errors import BadInput

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")


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
        return self.env.secret_values()


def _env_of(service: Service | None, key: str, default: str) -> str:
    if service is None:
        return default
    value = service.environment.get(key)
    return default if value is None else str(value)


def _one(services: list[Service]) -> Service | None:
    return services[0] if services else None


def find_compose_file(root: Path) -> Path:
    for name in COMPOSE_NAMES:
        if (root / name).exists():
            return root / name
    raise BadInput(f"no Compose file ({', '.join(COMPOSE_NAMES)})", root)


def load_deployment(root: Path | str) -> Deployment:
    root = Path(root)
    if not root.is_dir():
        raise BadInput("deployment directory not found", root)
    env = load_env(root / ".env")
    compose = load_compose(find_compose_file(root), env)
    nginx = load_nginx(root / "nginx")
    return Deployment(root=root, env=env, compose=compose, nginx=nginx)
