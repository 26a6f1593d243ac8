"""The deployment's `docker-compose.yml`: YAML with the line of every mapping key, every string interpolated from
`.env` the way `docker compose` does, and each service reduced to the facts the checks read."""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lobestack.deployment.envfile import SECRET_NAME, EnvFile
from lobestack.deployment.interpolation import interpolate
from lobestack.deployment.limits import MAX_NESTING, MAX_YAML_NODES, ExpansionBudget, read_text
from lobestack.errors import BadInput, InterpolationError


class LineDict(dict):
    """A YAML mapping that remembers the (1-based) line of each key."""

    lines: dict[str, int]
    line: int


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps lines, refuses duplicate keys (as Compose does) and bounds the cost of a document:
    nodes counted with every alias expanded, nesting depth, no alias to a node that contains it."""

    def __init__(self, stream: str, path: Path) -> None:
        super().__init__(stream)
        self.path = path
        self._depth = 0
        self._nodes = 0
        self._open_anchors: set[str] = set()
        self._measured: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height), aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:  # type: ignore[override]
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise BadInput(f"alias *{event.anchor} refers to the node that contains it", self.path, line)
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:  # an undefined alias is PyYAML's own error
                nodes, height = self._measure(anchored)
                self._count(nodes, line)
                if self._depth + height > MAX_NESTING:
                    raise BadInput(f"nesting is deeper than {MAX_NESTING} levels, the limit", self.path, line)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_NESTING:
            raise BadInput(f"nesting is deeper than {MAX_NESTING} levels, the limit", self.path, line)
        self._count(1, line)
        anchor = getattr(event, "anchor", None)
        if anchor:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open_anchors.discard(anchor)

    def _count(self, nodes: int, line: int) -> None:
        self._nodes += nodes
        if self._nodes > MAX_YAML_NODES:
            raise BadInput(f"more than {MAX_YAML_NODES} YAML nodes (aliases expanded), the limit", self.path, line)

    def _measure(self, root: yaml.Node) -> tuple[int, int]:
        """Nodes and height of a complete node with its aliases expanded; each node is measured once."""
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            if id(node) in self._measured:
                continue
            children = _children(node)
            if children_done:
                sizes = [self._measured[id(c)] for c in children]
                self._measured[id(node)] = (1 + sum(n for n, _ in sizes), 1 + max((h for _, h in sizes), default=0))
            else:
                stack.append((node, True))
                stack.extend((c, False) for c in children if id(c) not in self._measured)
        return self._measured[id(root)]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:  # explicit keys only: a merged (`<<`) key may be overridden
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                raise BadInput("a mapping key must be a plain value, not a list or mapping", self.path, line)
            if key in first_line:
                raise BadInput(f"duplicate key {key!r} (first at line {first_line[key]})", self.path, line)
            first_line[key] = line
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.lines = {}
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):  # a key merged in from another mapping
                raise BadInput("a mapping key must be a plain value, not a list or mapping", self.path, line)
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.lines[key] = line
        return mapping


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


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
        target, published = raw.get("target"), raw.get("published")
        if not _is_port_number(target):
            raise BadInput(f"service {service}: port target {target!r} is not a port number")
        if published not in (None, "") and not (_is_port_number(published) or re.fullmatch(r"\d+-\d+", str(published))):
            raise BadInput(f"service {service}: published port {published!r} is not a port number or range")
        return PortBinding(
            host_ip=str(raw.get("host_ip", "")),
            host_port=int(str(published).split("-")[0]) if published not in (None, "") else None,
            container_port=int(target),
            protocol=str(raw.get("protocol", "tcp")),
        )
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise BadInput(f"service {service}: a port mapping must be a string or a mapping, not {_kind(raw)}")
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


def _is_port_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and value >= 0) or (isinstance(value, str) and value.isascii() and value.isdigit())


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__


# The shape of every service key a check reads, as the Compose specification defines it: one line and exit 4 for
# anything else, rather than a traceback inside a check.
class _Scalar:
    """Any plain value: YAML 1.1 reads `restart: no` as a boolean and `image: 1.0` as a number; what such a value
    means is the reader's business, not a shape error."""


_SHAPES: dict[str, tuple[type, ...]] = {
    "image": (_Scalar,),
    "restart": (_Scalar,),
    "environment": (dict, list),
    "ports": (list,),
    "volumes": (list,),
    "depends_on": (dict, list),
    "extra_hosts": (dict, list),
    "healthcheck": (dict,),
    "cap_add": (list,),
    "profiles": (list,),
    "deploy": (dict,),
    "entrypoint": (_Scalar, list),
    "command": (_Scalar, list),
}
_SHAPE_NAMES = {_Scalar: "a plain value", dict: "a mapping", list: "a list"}


def _has_shape(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, dict | list):
        return isinstance(value, kinds)
    return _Scalar in kinds


def _check_shapes(service: Service, path: Path) -> None:
    spec, name = service.spec, service.name

    def refuse(key: str, message: str) -> None:
        raise BadInput(f"service {name}: {key} {message}", path, spec.lines.get(key, spec.line))

    for key, kinds in _SHAPES.items():
        value = spec.get(key)
        if value is not None and not _has_shape(value, kinds):
            refuse(key, f"must be {' or '.join(_SHAPE_NAMES[k] for k in kinds)}, not {_kind(value)}")
    environment = spec.get("environment")
    if isinstance(environment, list) and not all(isinstance(item, str) for item in environment):
        refuse("environment", "as a list must hold NAME=value strings")
    depends_on = spec.get("depends_on")
    if isinstance(depends_on, list) and not all(isinstance(item, str) for item in depends_on):
        refuse("depends_on", "as a list must hold service names")
    if isinstance(depends_on, dict):
        for dep, options in depends_on.items():
            if options is not None and not isinstance(options, dict):
                refuse("depends_on", f"{dep}: must be a mapping (condition: ...), not {_kind(options)}")
            if isinstance(options, dict) and not isinstance(options.get("condition", ""), str):
                refuse("depends_on", f"{dep}: condition must be a string")
    for item in spec.get("volumes") or []:
        if not isinstance(item, str | dict):
            refuse("volumes", f"entries must be strings or mappings, not {_kind(item)}")
    for raw in spec.get("ports") or []:
        try:
            _parse_port(raw, name)
        except BadInput as exc:
            raise BadInput(exc.reason, path, spec.lines.get("ports", spec.line)) from None
    deploy = spec.get("deploy") or {}
    resources = deploy.get("resources") or {}
    if not isinstance(resources, dict):
        refuse("deploy", "resources must be a mapping")
    reservations = resources.get("reservations") or {}
    if not isinstance(reservations, dict):
        refuse("deploy", "resources.reservations must be a mapping")
    devices = reservations.get("devices") or []
    if not isinstance(devices, list) or not all(isinstance(dev, dict) for dev in devices):
        refuse("deploy", "resources.reservations.devices must be a list of mappings")
    if not all(isinstance(dev.get("capabilities") or [], list) for dev in devices):
        refuse("deploy", "resources.reservations.devices[].capabilities must be a list")


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


def _interpolate_tree(
    node: Any, env: EnvFile, path: Path, unresolved: list[tuple[str, str]], line: int, budget: ExpansionBudget
) -> Any:
    if isinstance(node, LineDict):
        for key, value in node.items():
            key_line = node.lines.get(key, line)
            if isinstance(key, str) and "\0" in key:
                raise BadInput("a key holds a NUL character", path, key_line)
            try:
                node[key] = _interpolate_tree(value, env, path, unresolved, key_line, budget)
            except InterpolationError as exc:
                reason = exc.safe if SECRET_NAME.search(str(key)) else str(exc)
                raise BadInput(f"{key}: {reason}", path, key_line) from None
        return node
    if isinstance(node, list):
        return [_interpolate_tree(v, env, path, unresolved, line, budget) for v in node]
    if isinstance(node, str):
        if "\0" in node:  # `"\0"` in a double-quoted scalar; Compose and Docker refuse a NUL in a value
            raise BadInput("a value holds a NUL character", path, line)
        missing: list[str] = []
        value = interpolate(node, env.values, missing=missing, budget=budget)
        unresolved.extend((f"{path.name}:{line}", m) for m in missing if (f"{path.name}:{line}", m) not in unresolved)
        return value
    return node


def load_compose(path: Path, env: EnvFile) -> ComposeFile:
    text = read_text(path)
    loader: _LineLoader | None = None
    try:
        loader = _LineLoader(text, path)  # the reader checks every character here, before any parsing
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise BadInput(f"invalid YAML: {exc.problem or exc.context}", path, line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (the reader has no line for it)
        line = text.count("\n", 0, exc.position) + 1
        raise BadInput(f"invalid YAML: character #x{exc.character:04x} is not allowed", path, line) from None
    except yaml.YAMLError as exc:
        raise BadInput(f"invalid YAML: {type(exc).__name__}", path) from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, LineDict) or not isinstance(data.get("services"), dict):
        raise BadInput("not a Compose file: no top-level 'services' mapping", path, 1)
    unresolved: list[tuple[str, str]] = []
    data = _interpolate_tree(data, env, path, unresolved, 1, ExpansionBudget())
    services = {}
    for name, spec in data["services"].items():
        if not isinstance(spec, LineDict):
            raise BadInput(f"service {name!r} is not a mapping", path, data["services"].lines.get(name))
        services[str(name)] = Service(name=str(name), spec=spec, line=data["services"].lines[name])
        _check_shapes(services[str(name)], path)
    for service in services.values():
        for dep, condition in service.depends_on.items():
            if condition == "service_completed_successfully" and dep in services:
                services[dep].one_shot = True
    return ComposeFile(path=path, data=data, services=services, unresolved=unresolved)
