"""The deployment's Compose project, read the way `docker compose` (compose-go) reads it, with the file and line
every value came from.

What `docker compose config` does, in the same order:
1. the files: COMPOSE_FILE (shell, then `.env`), else the first of compose.yaml, compose.yml, docker-compose.yml,
   docker-compose.yaml in the directory, plus the first override file (compose.override.yml, …);
2. the variables: the shell's environment (none, unless the caller passes one), then `.env`;
3. per file and YAML document: YAML as go-yaml v3 reads it (compose_yaml.py: duplicate keys are an error,
   anchors and merge keys, YAML 1.2 scalars), every value interpolated (`$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
   `${VAR:?e}`, `${VAR?e}`, `${VAR:+r}`, `${VAR+r}`, `$$`), typed fields cast (`init: "true"`), `extends`
   (same file or another one), `!reset` / `!override`, `include` (each with its own project directory and env
   file), the merge into what earlier files defined (Compose's merge rules: environment and labels by key, ports
   and volumes by target, command and entrypoint replaced), the schema (compose-spec.json), short syntaxes made
   long (ports, volumes, depends_on, env_file);
4. relative paths made absolute, `environment` entries without a value resolved from the variables;
5. profiles (COMPOSE_PROFILES), the project's consistency (undefined services, networks, volumes), and each
   service's environment: its env_file(s), then `environment` on top.

The gate judges every service of the file, enabled by a profile or not (`--profile gpu up` starts the GPU one);
`Service.active` says whether the default profiles start it. A file Compose would refuse raises BadInput (one
line, the file and line). A `${VAR:?message}` without a value is not raised: it is collected in `unresolved`,
for the gate to report as a finding (Compose refuses to start on it)."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lobestack.deployment.compose_schema import SchemaError, validate
from lobestack.deployment.compose_yaml import (
    Override,
    Reset,
    Where,
    YMap,
    YSeq,
    go_string,
    load_documents,
)
from lobestack.deployment.envfile import SECRET_NAME, EnvFile, parse_env_text
from lobestack.deployment.interpolation import interpolate
from lobestack.deployment.limits import ExpansionBudget, read_text
from lobestack.errors import BadInput, InterpolationError

DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)

Path_ = tuple[str, ...]


class Text(str):
    """A string interpolated from variables; `uses` names them (a finding can point back at `.env`)."""

    uses: tuple[str, ...] = ()

    @staticmethod
    def of(value: str, uses: Sequence[str]) -> str:
        if not uses:
            return value
        text = Text(value)
        text.uses = tuple(dict.fromkeys(uses))
        return text


def uses_of(value: Any) -> tuple[str, ...]:
    return getattr(value, "uses", ())


# --- the model the checks read -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortBinding:
    host_ip: str
    host_port: int | None
    container_port: int
    protocol: str = "tcp"
    published: str = ""  # as Compose writes it: "8000", a range "8000-8010", or "" (a random port)


@dataclass(frozen=True)
class Mount:
    type: str  # bind, volume, tmpfs, …
    source: str  # an absolute path (bind), a volume name, or "" (anonymous)
    target: str
    read_only: bool = False

    def __str__(self) -> str:
        return f"{self.source}:{self.target}{':ro' if self.read_only else ''}"


@dataclass(frozen=True)
class EnvValue:
    """One variable of a container's environment: its value (None: declared without one, so unset), where it is
    set (a line of the compose file or of an env_file), and the variables interpolated into it."""

    value: str | None
    where: Where | None
    uses: tuple[str, ...] = ()


@dataclass
class Service:
    name: str
    spec: YMap  # the effective configuration, long syntax, as `docker compose config` shows it
    where_defined: Where | None
    env: dict[str, EnvValue] = field(default_factory=dict)
    active: bool = True  # started by `docker compose up` with the default profiles
    # A run-to-completion job (minio-init): another service waits for it with service_completed_successfully.
    one_shot: bool = False

    @property
    def line(self) -> int:
        return self.where_defined.line if self.where_defined else 0

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
    def profiles(self) -> list[str]:
        return [str(p) for p in self.spec.get("profiles") or []]

    @property
    def environment(self) -> dict[str, str]:
        """The variables the container gets (a variable declared without a value is not set in it)."""
        return {k: v.value for k, v in self.env.items() if v.value is not None}

    @property
    def ports(self) -> list[PortBinding]:
        out = []
        for port in self.spec.get("ports") or []:
            published = str(port.get("published") or "")
            first = published.split("-", 1)[0]
            out.append(
                PortBinding(
                    host_ip=str(port.get("host_ip") or ""),
                    host_port=int(first) if first.isdigit() else None,
                    container_port=int(port.get("target") or 0),
                    protocol=str(port.get("protocol") or "tcp"),
                    published=published,
                )
            )
        return out

    @property
    def mounts(self) -> list[Mount]:
        return [
            Mount(
                type=str(v.get("type") or ""),
                source=str(v.get("source") or ""),
                target=str(v.get("target") or ""),
                read_only=bool(v.get("read_only")),
            )
            for v in self.spec.get("volumes") or []
        ]

    @property
    def volumes(self) -> list[str]:
        """Each mount as `source:target` (absolute host paths for binds)."""
        return [f"{m.source}:{m.target}" for m in self.mounts]

    @property
    def depends_on(self) -> dict[str, str]:
        deps = self.spec.get("depends_on") or {}
        return {str(k): str((v or {}).get("condition", "service_started")) for k, v in deps.items()}

    @property
    def extra_hosts(self) -> list[str]:
        """`name:address` pairs (Compose accepts `name:address` and `name=address`)."""
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

    def where(self, key: str | None = None) -> Where | None:
        if key is None:
            return self.where_defined
        return self.spec.pos.get(key) or self.where_defined


@dataclass
class ComposeProject:
    root: Path
    files: list[str]  # the files read, relative to the deployment directory (includes, extends, env_files too)
    data: YMap  # the merged top level (networks, volumes, …)
    services: dict[str, Service] = field(default_factory=dict)
    profiles: tuple[str, ...] = ()
    # (file:line, message) of `${VAR:?err}` expressions without a value; `docker compose` refuses to start on them.
    unresolved: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.root / self.files[0]

    def where(self, service: Service, key: str | None = None) -> str:
        where = service.where(key)
        return str(where) if where else self.files[0]

    def by_image(self, *needles: str) -> list[Service]:
        """Services whose image repository contains any of `needles` (roles are found by image, not by name)."""
        return [s for s in self.services.values() if any(n in s.image_repo for n in needles)]

    def active(self) -> list[Service]:
        return [s for s in self.services.values() if s.active]


# --- path patterns, as compose-go's tree.Path ----------------------------------------------------------------------


def _matches(path: Path_, pattern: Path_) -> bool:
    return len(path) == len(pattern) and all(q in ("*", p) for p, q in zip(path, pattern, strict=True))


def _pattern(text: str) -> Path_:
    return tuple(text.split("."))


class _Table(dict):
    """Values by path pattern (`services.*.ports`), looked up by a concrete path; indexed by length and last part."""

    def __init__(self, entries: dict[Path_, Any]) -> None:
        super().__init__(entries)
        self.index: dict[tuple[int, str], list[tuple[Path_, Any]]] = {}
        for pattern, value in entries.items():
            self.index.setdefault((len(pattern), pattern[-1]), []).append((pattern, value))


def _lookup(table: _Table, path: Path_) -> Any:
    if not path:
        return None
    for key in ((len(path), path[-1]), (len(path), "*")):
        for pattern, value in table.index.get(key, ()):
            if _matches(path, pattern):
                return value
    return None


# --- interpolation ---------------------------------------------------------------------------------------------


class _Recording(Mapping[str, str]):
    """The variables of one interpolation, remembering which ones an expression looked up."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.used: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.used.append(key)
        return self.values.get(key, default)

    def __getitem__(self, key: str) -> str:
        self.used.append(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _to_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "y", "yes", "on"):
        return True
    if lowered in ("false", "n", "no", "off"):
        return False
    raise ValueError(f"invalid boolean: {text}")


def _to_int(text: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f'parsing "{text}": invalid syntax')
    return int(text)


# compose-go's interpolateTypeCastMapping: string values of these fields become typed after interpolation.
_CASTS = _Table(
    {
        _pattern(p): cast
        for p, cast in (
            ("services.*.init", _to_bool),
            ("services.*.privileged", _to_bool),
            ("services.*.read_only", _to_bool),
            ("services.*.stdin_open", _to_bool),
            ("services.*.tty", _to_bool),
            ("services.*.oom_kill_disable", _to_bool),
            ("services.*.healthcheck.disable", _to_bool),
            ("services.*.healthcheck.retries", _to_int),
            ("services.*.ports.[].target", _to_int),
            ("services.*.volumes.[].read_only", _to_bool),
            ("services.*.volumes.[].volume.nocopy", _to_bool),
            ("services.*.deploy.replicas", _to_int),
            ("services.*.scale", _to_int),
            ("services.*.cpu_count", _to_int),
            ("services.*.pids_limit", _to_int),
            ("services.*.oom_score_adj", _to_int),
            ("services.*.deploy.restart_policy.max_attempts", _to_int),
            ("services.*.ulimits.*", _to_int),
            ("services.*.ulimits.*.hard", _to_int),
            ("services.*.ulimits.*.soft", _to_int),
            ("networks.*.external", _to_bool),
            ("networks.*.internal", _to_bool),
            ("networks.*.attachable", _to_bool),
            ("networks.*.enable_ipv6", _to_bool),
            ("volumes.*.external", _to_bool),
            ("secrets.*.external", _to_bool),
            ("configs.*.external", _to_bool),
        )
    }
)


# --- merging, as compose-go's override package ---------------------------------------------------------------------


def _where_of(container: Any, key: Any) -> Where | None:
    if isinstance(container, YMap):
        return container.pos.get(key) or container.at
    if isinstance(container, YSeq):
        return container.where(key)
    return None


def _seq(items: list[tuple[Any, Where | None]], at: Where | None) -> YSeq:
    out = YSeq(at=at)
    for item, where in items:
        out.append(item)
        out.pos.append(where)
    return out


def _as_sequence(value: Any) -> list[tuple[Any, Where | None]]:
    """compose-go's convertIntoSequence: a mapping becomes sorted `key=value` strings (`key` alone for null)."""
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            where = _where_of(value, key)
            if item is None:
                items.append((Text.of(key, ()), where))
            elif isinstance(item, list):
                items.extend((Text.of(f"{key}={go_string(v)}", uses_of(v)), where) for v in item)
            else:
                items.append((Text.of(f"{key}={go_string(item)}", uses_of(item)), where))
        return sorted(items, key=lambda pair: str(pair[0]))
    if isinstance(value, list):
        return [(item, _where_of(value, i)) for i, item in enumerate(value)]
    if isinstance(value, str):
        return [(value, None)]
    return []


def _as_mapping(value: Any, default: dict[str, Any] | None) -> YMap:
    if isinstance(value, YMap):
        return value
    out = YMap(at=getattr(value, "at", None))
    if isinstance(value, dict):
        out.update(value)
        return out
    if isinstance(value, list):
        for index, name in enumerate(value):
            out[str(name)] = None if default is None else YMap(default, at=_where_of(value, index))
            where = _where_of(value, index)
            if where:
                out.pos[str(name)] = where
    return out


def _merge_to_sequence(base: Any, other: Any, path: Path_) -> Any:
    at = getattr(other, "at", None) or getattr(base, "at", None)
    return _seq(_as_sequence(base) + _as_sequence(other), at)


def _merge_extra_hosts(base: Any, other: Any, path: Path_) -> Any:
    left = _as_sequence(base)
    seen = [item for item, _ in left]
    right = [(item, where) for item, where in _as_sequence(other) if item not in seen]
    return _seq(left + right, getattr(other, "at", None) or getattr(base, "at", None))


def _replace(base: Any, other: Any, path: Path_) -> Any:
    return other


_DEPENDS_DEFAULT = {"condition": "service_started", "required": True}


def _merge_depends_on(base: Any, other: Any, path: Path_) -> Any:
    return _merge_mappings(_as_mapping(base, _DEPENDS_DEFAULT), _as_mapping(other, _DEPENDS_DEFAULT), path)


def _merge_networks(base: Any, other: Any, path: Path_) -> Any:
    return _merge_mappings(_as_mapping(base, None), _as_mapping(other, None), path)


def _merge_build(base: Any, other: Any, path: Path_) -> Any:
    def as_build(value: Any) -> YMap:
        if isinstance(value, str):
            return YMap({"context": value})
        return value if isinstance(value, YMap) else YMap(value or {})

    return _merge_mappings(as_build(base), as_build(other), path)


def _merge_logging(base: Any, other: Any, path: Path_) -> Any:
    if not isinstance(base, dict) or not isinstance(other, dict):
        return other
    if base.get("driver") == other.get("driver") or "driver" not in base or "driver" not in other:
        return _merge_mappings(base, other, path)
    return other


_MERGE_SPECIALS = _Table(
    {
        _pattern(p): fn
        for p, fn in (
            ("services.*.annotations", _merge_to_sequence),
            ("services.*.build", _merge_build),
            ("services.*.build.args", _merge_to_sequence),
            ("services.*.build.labels", _merge_to_sequence),
            ("services.*.command", _replace),
            ("services.*.depends_on", _merge_depends_on),
            ("services.*.deploy.labels", _merge_to_sequence),
            ("services.*.dns", _merge_to_sequence),
            ("services.*.dns_opt", _merge_to_sequence),
            ("services.*.dns_search", _merge_to_sequence),
            ("services.*.entrypoint", _replace),
            ("services.*.env_file", _merge_to_sequence),
            ("services.*.environment", _merge_to_sequence),
            ("services.*.extra_hosts", _merge_extra_hosts),
            ("services.*.healthcheck.test", _replace),
            ("services.*.labels", _merge_to_sequence),
            ("services.*.logging", _merge_logging),
            ("services.*.networks", _merge_networks),
            ("services.*.sysctls", _merge_to_sequence),
            ("services.*.tmpfs", _merge_to_sequence),
            ("networks.*.labels", _merge_to_sequence),
            ("volumes.*.labels", _merge_to_sequence),
        )
    }
)


def _merge(base: Any, other: Any, path: Path_) -> Any:
    special = _lookup(_MERGE_SPECIALS, path)
    if special is not None:
        return special(base, other, path)
    if other is None:
        return base
    if isinstance(base, dict):
        if not isinstance(other, dict):
            raise _MergeError(path)
        return _merge_mappings(base, other, path)
    if isinstance(base, list):
        if not isinstance(other, list):
            raise _MergeError(path)
        at = getattr(base, "at", None)
        return _seq(_as_sequence(base) + _as_sequence(other), at)
    return other


def _merge_mappings(base: dict, other: dict, path: Path_) -> YMap:
    out = base if isinstance(base, YMap) else _as_mapping(base, None)
    for key, value in other.items():
        if key not in out:
            out[key] = value
        else:
            out[key] = _merge(out[key], value, (*path, key))
        where = _where_of(other, key)
        if where is not None and (key not in out.pos or value is not None):
            out.pos[key] = where
    return out


class _MergeError(Exception):
    def __init__(self, path: Path_) -> None:
        super().__init__(f"cannot override {'.'.join(path)}")
        self.path = path


# --- unicity, as compose-go's EnforceUnicity -----------------------------------------------------------------------


def _key_value_index(item: Any) -> str:
    return str(item).split("=", 1)[0] if isinstance(item, str) else repr(item)


def _volume_index(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("target", ""))
    if isinstance(item, str):
        return parse_volume(item)["target"]
    return ""


def _port_index(item: Any) -> str:
    if isinstance(item, bool):
        return repr(item)
    if isinstance(item, int):
        return str(item)
    if isinstance(item, dict):
        return (
            f"{item.get('host_ip', '0.0.0.0')}:{_go_value(item.get('published'))}:{_go_value(item.get('target'))}"
            f"/{item.get('protocol', 'tcp')}"
        )
    return str(item)


def _go_value(value: Any) -> str:
    return "%!s(<nil>)" if value is None else go_string(value)


def _env_file_index(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("path", ""))
    return str(item)


_UNIQUE = _Table(
    {
        _pattern(p): fn
        for p, fn in (
            ("services.*.annotations", _key_value_index),
            ("services.*.build.args", _key_value_index),
            ("services.*.build.labels", _key_value_index),
            ("services.*.cap_add", _key_value_index),
            ("services.*.cap_drop", _key_value_index),
            ("services.*.dns", _key_value_index),
            ("services.*.dns_opt", _key_value_index),
            ("services.*.dns_search", _key_value_index),
            ("services.*.environment", _key_value_index),
            ("services.*.env_file", _env_file_index),
            ("services.*.labels", _key_value_index),
            ("services.*.links", _key_value_index),
            ("services.*.ports", _port_index),
            ("services.*.profiles", _key_value_index),
            ("services.*.sysctls", _key_value_index),
            ("services.*.tmpfs", _key_value_index),
            ("services.*.volumes", _volume_index),
            ("services.*.deploy.labels", _key_value_index),
        )
    }
)


def _unique(value: Any, path: Path_) -> Any:
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _unique(value[key], (*path, key))
        return value
    if isinstance(value, list):
        indexer = _lookup(_UNIQUE, path)
        if indexer is None:
            return value
        items: list[Any] = []
        wheres: list[Where | None] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(value):
            key = indexer(item)
            if key in seen:
                items[seen[key]] = item
                wheres[seen[key]] = _where_of(value, i)
            else:
                seen[key] = len(items)
                items.append(item)
                wheres.append(_where_of(value, i))
        return _seq(list(zip(items, wheres, strict=True)), getattr(value, "at", None))
    return value


# --- long syntax, as compose-go's transform package ----------------------------------------------------------------

_PROTOCOLS = ("tcp", "udp", "sctp")


def _port_range(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")
    if not start.isdigit() or (end and not end.isdigit()):
        raise ValueError(text)
    low, high = int(start), int(end or start)
    if low > 65535 or high > 65535 or high < low:
        raise ValueError(text)
    return low, high


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_ports(spec: str) -> list[YMap]:
    """One `ports` entry in short syntax as the long-syntax mappings Compose makes of it (docker's nat rules)."""
    parts = spec.split(":")
    container = parts[-1]
    if len(parts) == 1:
        ip, host = "", ""
    elif len(parts) == 2:
        ip, host = "", parts[0]
    elif len(parts) == 3:
        ip, host = parts[0], parts[1]
    else:
        ip, host = ":".join(parts[:-2]), parts[-2]
    proto = "tcp"
    if "/" in container:
        container, proto = container.split("/", 1)
    if ip.startswith("["):
        if not ip.endswith("]"):
            raise ValueError(f"invalid IP address {ip}")
        ip = ip[1:-1]
    if ip and not _is_ip(ip):
        raise ValueError(f"invalid IP address: {ip}")
    if not container:
        raise ValueError(f"no port specified: {spec}<empty>")
    try:
        start, end = _port_range(container)
    except ValueError:
        raise ValueError(f"invalid containerPort: {container}") from None
    host_start = host_end = 0
    if host:
        try:
            host_start, host_end = _port_range(host)
        except ValueError:
            raise ValueError(f"invalid hostPort: {host}") from None
    if host and (end - start) != (host_end - host_start) and end != start:
        raise ValueError(f"invalid ranges specified for container and host Ports: {container} and {host}")
    if proto.lower() not in _PROTOCOLS:
        raise ValueError(f"invalid proto: {proto}")
    out: list[tuple[str, YMap]] = []
    for i in range(end - start + 1):
        published = ""
        if host:
            published = str(host_start + i)
            if start == end and host_start != host_end:
                published = f"{published}-{host_end}"
        entry = YMap()
        entry["mode"] = "ingress"
        if ip:
            entry["host_ip"] = ip
        entry["target"] = start + i
        if published:
            entry["published"] = published
        entry["protocol"] = proto.lower()
        out.append((f"{start + i}/{proto.lower()}", entry))
    return [entry for _, entry in sorted(out, key=lambda pair: pair[0])]


def parse_volume(spec: str) -> dict[str, Any]:
    """One `volumes` entry in short syntax as Compose's long syntax (compose-go's format.ParseVolume)."""
    volume: dict[str, Any] = {"type": "", "source": "", "target": "", "read_only": False}
    if not spec:
        raise ValueError("invalid empty volume spec")
    if len(spec) <= 2:
        volume.update(type="volume", target=spec)
        return volume
    buffer = ""
    for index, char in enumerate(spec + "\0"):
        if char == ":" and len(buffer) == 1 and buffer.isalpha():
            buffer += char
        elif char in (":", "\0"):
            if not buffer:
                raise ValueError(f"invalid spec: {spec}: empty section between colons")
            if not volume["source"] and char == "\0":
                volume["target"] = buffer
            elif not volume["source"]:
                volume["source"] = buffer
            elif not volume["target"]:
                volume["target"] = buffer
            elif char == ":":
                raise ValueError(f"invalid spec: {spec}: too many colons")
            else:
                for option in buffer.split(","):
                    if option == "ro":
                        volume["read_only"] = True
                    elif option == "rw":
                        volume["read_only"] = False
            buffer = ""
            del index
        else:
            buffer += char
    source = volume["source"]
    volume["type"] = "bind" if source and source[0] in "./~" else "volume"
    return volume


def _long_volume(spec: str) -> YMap:
    parsed = parse_volume(spec)
    out = YMap()
    out["type"] = parsed["type"]
    if parsed["source"]:
        out["source"] = parsed["source"]
    out["target"] = os.path.normpath(parsed["target"]) if parsed["target"] else ""
    if parsed["target"].startswith("//"):
        out["target"] = "/" + out["target"].lstrip("/")
    if parsed["read_only"]:
        out["read_only"] = True
    return out


# --- the reader ----------------------------------------------------------------------------------------------------


class _Reader:
    """One `docker compose config` of a deployment directory."""

    def __init__(self, root: Path, variables: dict[str, str]) -> None:
        self.root = root
        self.variables = variables
        self.unresolved: list[tuple[str, str]] = []
        self.files: list[str] = []

    # -- names and errors --
    def name(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return os.path.relpath(path.resolve(), self.root.resolve())

    def fail(self, message: str, where: Where | None, path: Path | None = None) -> BadInput:
        if where is not None:
            return BadInput(message, self.root / where.file, where.line)
        return BadInput(message, path)

    # -- one file --
    def read_file(
        self,
        path: Path,
        working_dir: Path,
        variables: Mapping[str, str],
        merged: YMap,
        *,
        nested: bool = False,
        included: tuple[Path, ...] = (),
    ) -> YMap:
        text = read_text(path)  # a regular file within the size bound, UTF-8, no NUL (before its name is resolved)
        name = self.name(path)
        if name not in self.files:
            self.files.append(name)
        documents = load_documents(text, path, name)
        budget = ExpansionBudget()  # what interpolation may substitute in this file, all documents together
        if not documents:
            raise BadInput("empty compose file", path)
        for document in documents:
            data = _strip_markers(document.data)
            if not isinstance(data, YMap):
                raise BadInput("top-level object must be a mapping", path, 1)
            data = self.interpolate(data, (), variables, budget=budget)
            if not nested:
                self.apply_extends(data, path, working_dir, variables, document.resets)
            _apply_resets(merged, document.resets)
            if not nested:
                self.apply_include(data, path, working_dir, variables, (*included, path))
            try:
                merged = _merge_mappings(merged, data, ())
            except _MergeError as exc:
                raise self.fail(exc.args[0], _find(merged, exc.path)) from None
            merged = _unique(merged, ())
            if not nested:
                try:
                    validate(_plain(merged))
                except SchemaError as exc:
                    where = _find(merged, exc.path)
                    shown = ".".join(exc.path) or "the top level"
                    raise self.fail(f"{shown}: {exc.message} (Compose refuses the file)", where, path) from None
                merged.pop("version", None)
            merged = self.canonical(merged)
            merged = _unique(merged, ())
        return merged

    def interpolate(
        self,
        node: Any,
        path: Path_,
        variables: Mapping[str, str],
        where: Where | None = None,
        *,
        budget: ExpansionBudget,
    ) -> Any:
        if isinstance(node, YMap):
            for key in list(node):
                if "\0" in key:
                    raise self.fail("a key holds a NUL character", node.where(key))
                node[key] = self.interpolate(node[key], (*path, key), variables, node.where(key), budget=budget)
            return node
        if isinstance(node, YSeq):
            for i, item in enumerate(node):
                node[i] = self.interpolate(item, (*path, "[]"), variables, node.where(i), budget=budget)
            return node
        if not isinstance(node, str):
            return node
        if "\0" in node:  # `"\0"` in a double-quoted scalar; Compose and Docker refuse a NUL in a value
            raise self.fail("a value holds a NUL character", where)
        recording = _Recording(variables)
        missing: list[str] = []
        try:
            value = interpolate(node, recording, missing=missing, budget=budget)
        except InterpolationError as exc:
            # The text may be a secret: under a secret-named key only the safe form of the reason is shown.
            secret = any(SECRET_NAME.search(part) for part in path) or SECRET_NAME.search(node.split("=", 1)[0])
            reason = exc.safe if secret else str(exc)
            raise self.fail(f"{'.'.join(path)}: {reason}", where) from None
        for message in missing:
            entry = (str(where), message)
            if entry not in self.unresolved:
                self.unresolved.append(entry)
        cast = _lookup(_CASTS, path)
        if cast is not None:
            try:
                return cast(value)
            except ValueError as exc:
                raise self.fail(f"{'.'.join(path)}: failed to cast to expected type: {exc}", where) from None
        return Text.of(value, recording.used) if "$" in node else value

    # -- extends --
    def apply_extends(
        self, data: YMap, path: Path, working_dir: Path, variables: Mapping[str, str], resets: list[Path_]
    ) -> None:
        services = data.get("services")
        if services is None:
            return
        if not isinstance(services, YMap):
            raise self.fail("services must be a mapping", data.where("services"))
        for name in list(services):
            services[name] = self.extend(name, services, path, working_dir, variables, (), resets)

    def extend(
        self,
        name: str,
        services: YMap,
        path: Path,
        working_dir: Path,
        variables: Mapping[str, str],
        chain: tuple[Any, ...],
        resets: list[Path_],
    ) -> Any:
        service = services[name]
        if service is None:
            return None
        if not isinstance(service, YMap):
            raise self.fail(f"services.{name} must be a mapping", services.where(name))
        extends = service.get("extends")
        if extends is None:
            return service
        where = service.where("extends")
        if isinstance(extends, str):
            ref, other = extends, None
        elif isinstance(extends, dict) and isinstance(extends.get("service"), str):
            ref, other = extends["service"], extends.get("file")
        else:
            raise self.fail(f"services.{name}.extends must name a service", where)
        key = (str(path), name)
        if key in chain:
            raise self.fail(f"circular reference: services.{name} extends itself through {ref}", where)
        base_path, base_services, base_dir = path, services, working_dir
        if other is not None:
            base_path = (working_dir / str(other)).resolve() if not os.path.isabs(str(other)) else Path(str(other))
            base_dir = base_path.parent
            if not base_path.is_file():
                raise self.fail(f"services.{name} extends a file that does not exist: {other}", where)
            loaded = self.read_file(base_path, base_dir, variables, YMap(), nested=True)
            base_services = loaded.get("services")
            if not isinstance(base_services, YMap):
                raise self.fail(f"cannot extend service {name!r}: {other} has no services section", where)
            _resolve_paths(loaded, base_dir)
        if ref not in base_services:
            shown = f" in {other}" if other is not None else ""
            raise self.fail(f"cannot extend service {name!r}: service {ref!r} not found{shown}", where)
        base = self.extend(ref, base_services, base_path, base_dir, variables, (*chain, key), [])
        if base is None:
            return service
        source = _clone(base)
        # `!reset` / `!override` in the extending service drop what the base sets there.
        _apply_resets(YMap({"services": YMap({name: source})}), resets)
        try:
            merged = _merge(source, service, ("services", "x"))
        except _MergeError as exc:
            raise self.fail(exc.args[0], where) from None
        merged.pop("extends", None)
        merged.pos.pop("extends", None)
        merged.at = service.at
        services[name] = merged
        return merged

    # -- include --
    def apply_include(
        self, data: YMap, path: Path, working_dir: Path, variables: Mapping[str, str], included: tuple[Path, ...]
    ) -> None:
        entries = data.get("include")
        if entries is None:
            return
        where = data.where("include")
        if not isinstance(entries, list):
            raise self.fail("`include` must be a list", where)
        for index, entry in enumerate(entries):
            at = _where_of(entries, index) or where
            if isinstance(entry, str):
                entry = YMap({"path": entry}, at=at)
            if not isinstance(entry, dict) or "path" not in entry:
                raise self.fail("an include entry must be a path or a mapping with `path`", at)
            paths = entry["path"] if isinstance(entry["path"], list) else [entry["path"]]
            files = [Path(os.path.normpath(working_dir / str(p))) for p in paths]
            project_dir = entry.get("project_directory")
            if project_dir is None:
                project_path = files[0].parent
            else:
                project_path = Path(os.path.normpath(working_dir / str(project_dir)))
            if files[0] in included:
                raise self.fail(f"include cycle: {self.name(files[0])} includes itself", at)
            env_files = entry.get("env_file")
            if env_files is None:
                candidate = project_path / ".env"
                env_paths = [candidate] if candidate.is_file() else []
            else:
                env_paths = [working_dir / str(f) for f in (env_files if isinstance(env_files, list) else [env_files])]
                for env_path in env_paths:
                    if not env_path.exists():
                        raise self.fail(f"include env_file {self.name(env_path)} does not exist", at)
                    if env_path.is_dir():
                        raise self.fail(f"include env_file {self.name(env_path)} is not a file", at)
            from_files: dict[str, str] = {}
            for env_path in env_paths:
                self.files.append(self.name(env_path))
                parsed = _read_env_file(env_path, {**from_files, **variables})
                from_files.update(parsed.values)
            include_variables = {**from_files, **variables}
            imported = YMap()
            for file in files:
                if not file.is_file():
                    raise self.fail(f"included file {self.name(file)} does not exist", at)
                imported = self.read_file(file, project_path, include_variables, imported, included=included)
            imported = _finish_model(imported, project_path, include_variables)
            for section in ("services", "volumes", "networks", "secrets", "configs"):
                source = imported.get(section)
                if not source:
                    continue
                target = data.get(section)
                if target is None:
                    target = YMap(at=source.at)
                    data[section] = target
                    data.pos[section] = source.at or at
                for name, value in source.items():
                    if name in target and _plain(target[name]) != _plain(value):
                        raise self.fail(f"{section}.{name} conflicts with imported resource", target.where(name))
                    if name not in target:
                        target[name] = value
                        target.pos[name] = source.pos.get(name) or at
        data.pop("include", None)

    # -- long syntax --
    def canonical(self, merged: YMap) -> YMap:
        services = merged.get("services")
        if isinstance(services, dict):
            for service in services.values():
                if isinstance(service, dict):
                    self.canonical_service(service)
        return merged

    def canonical_service(self, service: YMap) -> None:
        ports = service.get("ports")
        if isinstance(ports, list):
            out: list[tuple[Any, Where | None]] = []
            for i, port in enumerate(ports):
                where = _where_of(ports, i)
                if isinstance(port, bool):
                    raise self.fail(f"invalid type {type(port).__name__} for port", where)
                if isinstance(port, int | str):
                    try:
                        out.extend((entry, where) for entry in parse_ports(str(port)))
                    except ValueError as exc:
                        raise self.fail(str(exc), where) from None
                elif isinstance(port, dict):
                    out.append((port, where))
                else:
                    raise self.fail(f"invalid type {type(port).__name__} for port", where)
            service["ports"] = _seq(out, ports.at if isinstance(ports, YSeq) else None)
        volumes = service.get("volumes")
        if isinstance(volumes, list):
            for i, volume in enumerate(volumes):
                if isinstance(volume, str):
                    try:
                        volumes[i] = _long_volume(volume)
                    except ValueError as exc:
                        raise self.fail(str(exc), _where_of(volumes, i)) from None
        env_file = service.get("env_file")
        if isinstance(env_file, str):
            service["env_file"] = _seq([(YMap({"path": env_file, "required": True}), service.where("env_file"))], None)
        elif isinstance(env_file, list):
            for i, item in enumerate(env_file):
                if isinstance(item, str):
                    env_file[i] = YMap({"path": item, "required": True}, at=_where_of(env_file, i))
                elif isinstance(item, dict) and "required" not in item:
                    item["required"] = True
        depends = service.get("depends_on")
        if isinstance(depends, list):
            service["depends_on"] = _as_mapping(depends, _DEPENDS_DEFAULT)
        elif isinstance(depends, dict):
            for dep in depends.values():
                if isinstance(dep, dict):
                    dep.setdefault("condition", "service_started")
                    dep.setdefault("required", True)
        networks = service.get("networks")
        if isinstance(networks, list):
            service["networks"] = _as_mapping(networks, None)
        extends = service.get("extends")
        if isinstance(extends, str):
            service["extends"] = YMap({"service": extends})


def _clone(value: Any) -> Any:
    return copy.deepcopy(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Text):
        return str(value)
    return value


def _find(node: Any, path: Sequence[str]) -> Where | None:
    """The position of the deepest existing part of `path`."""
    where = getattr(node, "at", None)
    for part in path:
        if isinstance(node, dict) and part in node:
            where = _where_of(node, part) or where
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            where = _where_of(node, int(part)) or where
            node = node[int(part)]
        else:
            break
    return where


def _apply_resets(merged: YMap, resets: list[tuple[str, ...]]) -> None:
    """`!reset` and `!override` in this document: drop what earlier files set at those paths."""
    for path in resets:
        node: Any = merged
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)


def _strip_markers(node: Any, parent: Any = None, key: Any = None) -> Any:
    if isinstance(node, dict):
        for k in list(node):
            value = node[k]
            if isinstance(value, Reset):
                del node[k]
                if isinstance(node, YMap):
                    node.pos.pop(k, None)
            elif isinstance(value, Override):
                node[k] = _strip_markers(value.value)
            else:
                node[k] = _strip_markers(value)
        return node
    if isinstance(node, list):
        kept = [(i, v) for i, v in enumerate(node) if not isinstance(v, Reset)]
        out = _seq(
            [(_strip_markers(v.value if isinstance(v, Override) else v), _where_of(node, i)) for i, v in kept],
            getattr(node, "at", None),
        )
        return out
    if isinstance(node, Override):
        return _strip_markers(node.value)
    return node


def _read_env_file(path: Path, lookup: Mapping[str, str]) -> EnvFile:
    return parse_env_text(read_text(path), path, lookup=lookup)


def _resolve_paths(model: YMap, working_dir: Path) -> None:
    """compose-go's ResolveRelativePaths for what the model keeps: bind sources, env_file paths, build contexts."""
    home = os.path.expanduser("~")

    def absolute(text: str) -> str:
        if text.startswith("~"):
            text = home + text[1:]
        if os.path.isabs(text) or not text:
            return text
        return os.path.normpath(os.path.join(working_dir, text))

    for service in (model.get("services") or {}).values():
        if not isinstance(service, dict):
            continue
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict) and volume.get("type") == "bind" and isinstance(volume.get("source"), str):
                volume["source"] = Text.of(absolute(volume["source"]), uses_of(volume["source"]))
        for env_file in service.get("env_file") or []:
            if isinstance(env_file, dict) and isinstance(env_file.get("path"), str):
                env_file["path"] = absolute(env_file["path"])
        build = service.get("build")
        if isinstance(build, dict) and isinstance(build.get("context"), str) and "://" not in build["context"]:
            build["context"] = absolute(build["context"])
        extends = service.get("extends")
        if isinstance(extends, dict) and isinstance(extends.get("file"), str):
            extends["file"] = absolute(extends["file"])


def _finish_model(model: YMap, working_dir: Path, variables: Mapping[str, str]) -> YMap:
    """What loadYamlModel does once every file is merged: defaults, paths, `KEY`-only environment entries."""
    for service in (model.get("services") or {}).values():
        if not isinstance(service, dict):
            continue
        for port in service.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "tcp")
                port.setdefault("mode", "ingress")
    _resolve_paths(model, working_dir)
    for service in (model.get("services") or {}).values():
        if not isinstance(service, dict):
            continue
        env = service.get("environment")
        if isinstance(env, list):
            for i, item in enumerate(env):
                if isinstance(item, str) and "=" not in item and item in variables:
                    env[i] = Text.of(f"{item}={variables[item]}", (item,))
    return model


def _compose_files(root: Path, variables: Mapping[str, str]) -> list[Path]:
    listed = variables.get("COMPOSE_FILE")
    if listed:
        separator = variables.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
        return [root / name for name in listed.split(separator) if name]
    # A directory, a dangling link or a loop under a Compose file's name is reported by the reader, not skipped.
    found = [root / name for name in DEFAULT_FILES if os.path.lexists(root / name)]
    if not found:
        raise BadInput(f"no Compose file ({', '.join(DEFAULT_FILES)})", root)
    files = found[:1]
    overrides = [root / name for name in OVERRIDE_FILES if os.path.lexists(root / name)]
    return files + overrides[:1]


def load_compose(
    root: Path,
    env: EnvFile | None,
    *,
    environ: Mapping[str, str] | None = None,
    profiles: Sequence[str] | None = None,
) -> ComposeProject:
    """The Compose project of a deployment directory, as `docker compose config` (run in it) sees it.

    `env` is the directory's `.env` (None: there is none); `environ` the shell's environment (default: none, so
    the verdict depends on the directory alone); `profiles` the enabled profiles (default: COMPOSE_PROFILES)."""
    root = Path(root)
    variables = dict(env.values) if env is not None else {}
    variables.update(environ or {})
    if profiles is None:
        profiles = [p.strip() for p in variables.get("COMPOSE_PROFILES", "").split(",") if p.strip()]
    reader = _Reader(root, variables)
    if env is not None:
        reader.files.append(reader.name(env.path))
    files = _compose_files(root, variables)
    merged = YMap()
    for path in files:
        merged = reader.read_file(path, root, variables, merged)
    merged = _finish_model(merged, root, variables)
    project = ComposeProject(
        root=root,
        files=[reader.name(files[0])] + [f for f in reader.files if f != reader.name(files[0])],
        data=merged,
        profiles=tuple(profiles),
        unresolved=reader.unresolved,
    )
    services = merged.get("services")
    if not isinstance(services, YMap) or not services:
        raise BadInput("not a Compose project: no services", files[0], 1)
    for name, spec in services.items():
        if not isinstance(spec, YMap):
            spec = YMap(at=services.where(name))
        service = Service(name=str(name), spec=spec, where_defined=services.where(name))
        service.active = not service.profiles or any(p == "*" or p in service.profiles for p in profiles)
        project.services[str(name)] = service
    _check_consistency(project, reader)
    for service in project.services.values():
        service.env = _service_environment(service, variables, reader)
    for service in project.services.values():
        for dep, condition in service.depends_on.items():
            if condition == "service_completed_successfully" and dep in project.services:
                project.services[dep].one_shot = True
    return project


def _check_consistency(project: ComposeProject, reader: _Reader) -> None:
    """compose-go's checkConsistency, over the services the default profiles start."""
    networks = project.data.get("networks") or {}
    volumes = project.data.get("volumes") or {}
    for service in project.active():
        spec, name = service.spec, service.name

        def refuse(message: str, key: str | None = None) -> BadInput:
            return reader.fail(message, service.where(key))  # noqa: B023 (raised at once)

        if not spec.get("image") and spec.get("build") is None:
            raise refuse(f"service {name!r} has neither an image nor a build context")
        if spec.get("network_mode") and spec.get("networks"):
            raise refuse(f"service {name} declares mutually exclusive `network_mode` and `networks`", "network_mode")
        for network in spec.get("networks") or {}:
            if network != "default" and network not in networks:
                raise refuse(f"service {name!r} refers to undefined network {network}", "networks")
        test = (spec.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test and test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise refuse('healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"', "healthcheck")
        for dep, options in (spec.get("depends_on") or {}).items():
            target = project.services.get(dep)
            required = options.get("required", True) if isinstance(options, dict) else True
            if target is not None and (target.active or not required):
                continue
            raise refuse(f"service {name!r} depends on undefined service {dep!r}", "depends_on")
        mode = str(spec.get("network_mode") or "")
        other = mode.removeprefix("service:")
        if mode.startswith("service:") and other not in project.services:
            raise refuse(f"service {other!r} not found for network_mode {mode!r}", "network_mode")
        for mount in service.mounts:
            if mount.type == "volume" and mount.source and mount.source not in volumes:
                raise refuse(f"service {name!r} refers to undefined volume {mount.source}", "volumes")


def _service_environment(service: Service, variables: Mapping[str, str], reader: _Reader) -> dict[str, EnvValue]:
    """A container's environment: its env_file(s) in order, then `environment` on top; a variable declared without
    a value takes the project's (shell, then .env) value, or stays unset."""
    out: dict[str, EnvValue] = {}
    from_files: dict[str, str] = {}
    for entry in service.spec.get("env_file") or []:
        path = Path(str(entry.get("path", "")))
        if not path.exists():
            if entry.get("required", True) and service.active:
                raise reader.fail(f"env file {reader.name(path)} not found", service.where("env_file"))
            continue
        parsed = _read_env_file(path, _Chain(from_files, variables))
        name = reader.name(path)
        if name not in reader.files:
            reader.files.append(name)
        for key, value in parsed.values.items():
            out[key] = EnvValue(value, Where(name, parsed.lines.get(key, 0)) if key in parsed.lines else None)
            from_files[key] = value
    env = service.spec.get("environment")
    if isinstance(env, dict):
        for key, value in env.items():
            where = env.where(key) if isinstance(env, YMap) else None
            if value is None:
                if key in variables:
                    out[key] = EnvValue(variables[key], where, (key,))
                else:
                    out[key] = EnvValue(None, where)
            else:
                out[key] = EnvValue(value if isinstance(value, str) else go_string(value), where, uses_of(value))
    elif isinstance(env, list):
        for i, item in enumerate(env):
            where = _where_of(env, i)
            text = str(item)
            key, sep, value = text.partition("=")
            if sep:
                out[key] = EnvValue(value, where, uses_of(item))
            elif key in variables:
                out[key] = EnvValue(variables[key], where, (key,))
            else:
                out[key] = EnvValue(None, where)
    return out


class _Chain(Mapping[str, str]):
    def __init__(self, *maps: Mapping[str, str]) -> None:
        self.maps = maps

    def __getitem__(self, key: str) -> str:
        for m in self.maps:
            if key in m:
                return m[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter({k for m in self.maps for k in m})

    def __len__(self) -> int:
        return len({k for m in self.maps for k in m})
