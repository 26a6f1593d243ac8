"""The deployment's `docker-compose.yml`: YAML with the line of every mapping key, every string interpolated from
`.env` the way `docker compose` does, and each service reduced to the facts the checks read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lobestack.deployment.envfile import EnvFile
from lobestack.deployment.interpolation import interpolate
from lobestack.errors import BadInput, InterpolationError


class LineDict(dict):
    """A YAML mapping that remembers the (1-based) line of each key."""

    lines: dict[str, int]
    line: int


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.lines = {}
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)


@dataclass(frozen=True)
class PortBinding:
    host_ip: str
    host_port: int | None
    container_port: int
    protocol: str = "tcp"


@dataclass
class Service:
    name: str
    spec: LineDict
    line: int
    # A run-to-completion job (minio-init): another service waits for it with service_completed_successfully.
    one_shot: bool = False

    @property
    def image(self) -> str:
        return str(self.spec.get("image") or "")

    @property
    def image_repo(self) -> str:
        ref = self.image.split("@", 1)[0]
        last = ref.rsplit("/", 1)[-1]
        return ref.rsplit(":", 1)[0] if ":" in last else ref

    @property
    def image_tag(self) -> str | None:
        ref = self.image.split("@", 1)[0]
        last = ref.rsplit("/", 1)[-1]
        return last.split(":", 1)[1] if ":" in last else None

    @property
    def image_digest(self) -> str | None:
        return self.image.split("@", 1)[1] if "@" in self.image else None

    @property
    def restart(self) -> str | None:
        value = self.spec.get("restart")
        return None if value is None else str(value)

    @property
    def environment(self) -> dict[str, str]:
        env = self.spec.get("environment") or {}
        if isinstance(env, list):
            pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
            return {k: v for k, v in pairs}
        return {str(k): "" if v is None else str(v) for k, v in env.items()}

    @property
    def ports(self) -> list[PortBinding]:
        return [_parse_port(p, self.name) for p in self.spec.get("ports") or []]

    @property
    def depends_on(self) -> dict[str, str]:
        deps = self.spec.get("depends_on") or {}
        if isinstance(deps, list):
            return {str(d): "service_started" for d in deps}
        return {str(k): str((v or {}).get("condition", "service_started")) for k, v in deps.items()}

    @property
    def volumes(self) -> list[str]:
        out = []
        for v in self.spec.get("volumes") or []:
            if isinstance(v, dict):
                out.append(f"{v.get('source', '')}:{v.get('target', '')}")
            else:
                out.append(str(v))
        return out

    @property
    def extra_hosts(self) -> list[str]:
        hosts = self.spec.get("extra_hosts") or []
        if isinstance(hosts, dict):
            return [f"{k}:{v}" for k, v in hosts.items()]
        return [str(h).replace("=", ":", 1) if "=" in str(h) else str(h) for h in hosts]

    @property
    def start_command(self) -> str:
        """Entrypoint and command as one string (what the container runs)."""
        parts: list[str] = []
        for key in ("entrypoint", "command"):
            value = self.spec.get(key)
            if isinstance(value, list):
                parts.extend(str(v) for v in value)
            elif value:
                parts.append(str(value))
        return " ".join(parts)

    def line_of(self, key: str) -> int:
        return self.spec.lines.get(key, self.line)


_PORT = re.compile(
    r"^(?:(?P<ip>\[[^\]]+\]|[0-9.]+|[^:]*?):)??(?:(?P<host>\d+(?:-\d+)?):)?(?P<container>\d+)(?:-\d+)?(?:/(?P<proto>\w+))?$"
)


def _parse_port(raw: Any, service: str) -> PortBinding:
    if isinstance(raw, dict):
        published = raw.get("published")
        return PortBinding(
            host_ip=str(raw.get("host_ip", "")),
            host_port=int(str(published).split("-")[0]) if published not in (None, "") else None,
            container_port=int(raw.get("target", 0)),
            protocol=str(raw.get("protocol", "tcp")),
        )
    text = str(raw)
    match = _PORT.match(text)
    if not match:
        raise BadInput(f"service {service}: cannot read port mapping {text!r}")
    host = match.group("host")
    return PortBinding(
        host_ip=(match.group("ip") or "").strip("[]"),
        host_port=int(host.split("-")[0]) if host else None,
        container_port=int(match.group("container")),
        protocol=match.group("proto") or "tcp",
    )


@dataclass
class ComposeFile:
    path: Path
    data: LineDict
    services: dict[str, Service] = field(default_factory=dict)
    # (file:line, message) of `${VAR:?err}` expressions without a value; `docker compose` refuses to start on them.
    unresolved: list[tuple[str, str]] = field(default_factory=list)

    def where(self, service: Service, key: str | None = None) -> str:
        return f"{self.path.name}:{service.line_of(key) if key else service.line}"

    def by_image(self, *needles: str) -> list[Service]:
        """Services whose image repository contains any of `needles` (roles are found by image, not by name)."""
        return [s for s in self.services.values() if any(n in s.image_repo for n in needles)]


def _interpolate_tree(node: Any, env: EnvFile, path: Path, unresolved: list[tuple[str, str]], line: int) -> Any:
    if isinstance(node, LineDict):
        for key, value in node.items():
            key_line = node.lines.get(key, line)
            try:
                node[key] = _interpolate_tree(value, env, path, unresolved, key_line)
            except InterpolationError as exc:
                raise BadInput(str(exc), path, key_line) from None
        return node
    if isinstance(node, list):
        return [_interpolate_tree(v, env, path, unresolved, line) for v in node]
    if isinstance(node, str):
        missing: list[str] = []
        value = interpolate(node, env.values, missing=missing)
        unresolved.extend((f"{path.name}:{line}", m) for m in missing if (f"{path.name}:{line}", m) not in unresolved)
        return value
    return node


def load_compose(path: Path, env: EnvFile) -> ComposeFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("file not found", path) from None
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise BadInput(f"invalid YAML: {exc.problem or exc.context}", path, line) from None
    except yaml.YAMLError as exc:
        raise BadInput(f"invalid YAML: {exc}", path) from None
    if not isinstance(data, LineDict) or not isinstance(data.get("services"), dict):
        raise BadInput("not a Compose file: no top-level 'services' mapping", path, 1)
    unresolved: list[tuple[str, str]] = []
    data = _interpolate_tree(data, env, path, unresolved, 1)
    services = {}
    for name, spec in data["services"].items():
        if not isinstance(spec, LineDict):
            raise BadInput(f"service {name!r} is not a mapping", path, data["services"].lines.get(name))
        services[str(name)] = Service(name=str(name), spec=spec, line=data["services"].lines[name])
    for service in services.values():
        for dep, condition in service.depends_on.items():
            if condition == "service_completed_successfully" and dep in services:
                services[dep].one_shot = True
    return ComposeFile(path=path, data=data, services=services, unresolved=unresolved)
