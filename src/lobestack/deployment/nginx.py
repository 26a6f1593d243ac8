"""The deployment's Nginx site configs (`nginx/*.conf`), parsed with crossplane into servers and locations.

Site files are `http`-context snippets (what goes in sites-enabled/ or conf.d/): crossplane parses them in that
context without the main nginx.conf."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import crossplane
from crossplane.errors import NgxParserBaseException

from lobestack.deployment.limits import MAX_NESTING, MAX_NGINX_FILES, read_text
from lobestack.errors import BadInput

# Directives whose server-level values a location inherits only when it sets none of its own.
_ARRAY_INHERITED = {"proxy_set_header", "add_header"}


@dataclass(frozen=True)
class Directive:
    name: str
    args: tuple[str, ...]
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Listen:
    address: str
    port: int
    ssl: bool


@dataclass
class Location:
    match: str
    line: int
    directives: list[Directive] = field(default_factory=list)

    def get(self, name: str) -> list[Directive]:
        return [d for d in self.directives if d.name == name]


@dataclass
class Server:
    file: str
    line: int
    directives: list[Directive]
    locations: list[Location]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def names(self) -> list[str]:
        return [a for d in self.get("server_name") for a in d.args]

    @property
    def listens(self) -> list[Listen]:
        out = []
        for d in self.get("listen"):
            addr, _, port = d.args[0].rpartition(":") if not d.args[0].isdigit() else ("", "", d.args[0])
            if not port.isdigit():  # `listen 127.0.0.1` means port 80
                addr, port = d.args[0], "80"
            out.append(Listen(address=addr, port=int(port), ssl="ssl" in d.args[1:]))
        return out

    @property
    def ports(self) -> set[int]:
        return {lst.port for lst in self.listens}

    @property
    def ssl(self) -> bool:
        return any(lst.ssl for lst in self.listens) or any(d.args[:1] == ("on",) for d in self.get("ssl"))

    def get(self, name: str) -> list[Directive]:
        return [d for d in self.directives if d.name == name]

    def first(self, name: str) -> Directive | None:
        found = self.get(name)
        return found[0] if found else None

    def effective(self, location: Location, name: str) -> list[Directive]:
        """What a location really uses: its own directives, else the server's (Nginx inheritance)."""
        own = location.get(name)
        return own if own else self.get(name)

    def proxy_locations(self) -> list[Location]:
        return [loc for loc in self.locations if loc.get("proxy_pass")]

    def header(self, location: Location, header: str) -> str | None:
        """The value a location sends for `header` with proxy_set_header (None when not set)."""
        for d in self.effective(location, "proxy_set_header"):
            if len(d.args) >= 2 and d.args[0].lower() == header.lower():
                return d.args[1]
        return None


@dataclass
class NginxConfig:
    directory: Path
    files: list[str]
    servers: list[Server]

    def servers_for(self, name: str, port: int | None = None) -> list[Server]:
        return [s for s in self.servers if name in s.names and (port is None or port in s.ports)]


_UPSTREAM = re.compile(r"^https?://(?P<host>\[[^\]]+\]|[^:/]+)(?::(?P<port>\d+))?")


def upstream(location: Location) -> tuple[str, int] | None:
    """(host, port) of a location's proxy_pass, when it names one directly."""
    for d in location.get("proxy_pass"):
        match = _UPSTREAM.match(d.args[0])
        if match:
            return match.group("host"), int(match.group("port") or 80)
    return None


def _flatten(block: list[dict], file: str) -> list[Directive]:
    return [Directive(d["directive"], tuple(d.get("args", [])), file, d["line"]) for d in block]


def _check_nesting(path: Path) -> None:
    depth = 0
    try:
        for token, line, quoted in crossplane.lex(str(path)):
            if quoted:
                continue
            if token == "{":
                depth += 1
                if depth > MAX_NESTING:
                    raise BadInput(f"blocks nest deeper than {MAX_NESTING} levels, the limit", path, line)
            elif token == "}":
                depth -= 1
    except NgxParserBaseException as exc:
        message = re.sub(r"\s+in\s+\S+:\d+$", "", exc.strerror)
        raise BadInput(f"invalid Nginx config: {message}", path, exc.lineno) from None


def load_nginx(directory: Path) -> NginxConfig:
    if not directory.is_dir():
        raise BadInput("directory not found (the Nginx site configs belong here)", directory)
    files = sorted(p for p in directory.glob("*.conf"))
    if not files:
        raise BadInput("no *.conf site configs found", directory)
    if len(files) > MAX_NGINX_FILES:
        raise BadInput(f"more than {MAX_NGINX_FILES} *.conf site configs, the limit", directory)
    servers: list[Server] = []
    for path in files:
        # Nginx reads bytes, not UTF-8: only size, kind and NUL characters are refused here.
        read_text(path, utf8=False)
        _check_nesting(path)
        result = crossplane.parse(
            str(path), single=True, check_ctx=False, check_args=True, comments=False, strict=False
        )
        if result["errors"]:
            err = result["errors"][0]
            message = re.sub(r"\s+in\s+\S+:\d+$", "", err["error"])
            raise BadInput(f"invalid Nginx config: {message}", path, err.get("line"))
        for directive in result["config"][0]["parsed"]:
            if directive["directive"] != "server":
                continue
            block = directive.get("block", [])
            locations = [
                Location(
                    match=" ".join(d.get("args", [])),
                    line=d["line"],
                    directives=_flatten(d.get("block", []), path.name),
                )
                for d in block
                if d["directive"] == "location"
            ]
            plain = [d for d in block if d["directive"] != "location"]
            servers.append(Server(path.name, directive["line"], _flatten(plain, path.name), locations))
    return NginxConfig(directory=directory, files=[p.name for p in files], servers=servers)
