"""The deployment's Nginx site configs (`nginx/*.conf`), read the way Nginx reads them.

Site files are `http`-context snippets (what goes in sites-enabled/ or conf.d/, included by the main nginx.conf in
file-name order): their top-level directives are the http block's, their `server` blocks its servers. This module
builds the tree Nginx builds from them:
- `include` is followed where it stands, as Nginx does (a glob in name order; a relative path from the `nginx/`
  directory, which plays Nginx's configuration prefix); an include that leaves the deployment directory is refused
  without reading it, so no file outside the deployment is ever read or printed;
- every block (http, server, location at any depth, `if` in a location) inherits what it does not set itself from
  its parent. Array directives (`add_header`, `proxy_set_header`, …) follow the same rule as a whole: a block
  that sets any of them replaces, not extends, what it inherits — the cause of "a nested add_header drops HSTS";
- `proxy_pass` is not inherited by a nested location, but an `if` block keeps its location's handler;
- each request is served by one server: the one Nginx picks for its address, port and name (exact name, then the
  longest leading and trailing wildcard, then the first regex, else the default server of that address and port;
  of servers that repeat a name on the same port, the first one wins), and one location (exact, longest prefix
  with its nested locations, regexes in order unless `^~`);
- the TLS protocol version is negotiated with the default server of the address and port, before the name (SNI)
  is known, so its `ssl_protocols` apply to every name on that port.

A config Nginx would refuse (a directive in the wrong context or with wrong arguments, a duplicate, a nested
location outside its parent, two default servers) raises BadInput with the file and line."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import crossplane
from crossplane.analyzer import analyze
from crossplane.errors import NgxParserBaseException

from lobestack.deployment.limits import MAX_NESTING, MAX_NGINX_FILES, read_text
from lobestack.errors import BadInput

# Directives a nested block does not take from its parent (each level runs its own, or they name the block).
_NOT_INHERITED = {
    "proxy_pass",
    "return",
    "rewrite",
    "set",
    "break",
    "if",
    "location",
    "server",
    "server_name",
    "listen",
    "include",
    "try_files",
    "alias",
    "internal",
    "limit_except",
}
# Directives Nginx refuses to see twice in one block ("directive is duplicate").
_SINGLE = {
    "proxy_buffering",
    "proxy_request_buffering",
    "proxy_read_timeout",
    "proxy_send_timeout",
    "proxy_connect_timeout",
    "proxy_http_version",
    "proxy_pass",
    "proxy_ignore_headers",
    "client_max_body_size",
    "ignore_invalid_headers",
    "chunked_transfer_encoding",
    "ssl_protocols",
    "ssl_ciphers",
    "ssl_prefer_server_ciphers",
    "ssl_session_cache",
    "ssl_session_timeout",
    "ssl_session_tickets",
    "root",
    "alias",
}
MAX_INCLUDE_DEPTH = 16
# Files parsed in all, counting every include of a file: a glob include fanning out at each level stops here.
MAX_NGINX_READS = 16 * MAX_NGINX_FILES
_UPSTREAM = re.compile(r"^https?://(?P<host>\[[^\]]+\]|[^:/]+)(?::(?P<port>\d+))?")


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
    address: str  # "*" (any IPv4), "[::]" (any IPv6), or an address
    port: int
    ssl: bool
    default: bool = False

    @property
    def socket(self) -> tuple[str, int]:
        return self.address, self.port


@dataclass(eq=False)
class Block:
    """One context of the tree: http, server, location (at any depth) or `if`."""

    kind: str
    args: tuple[str, ...]
    file: str
    line: int
    parent: Block | None = field(default=None, repr=False)
    directives: list[Directive] = field(default_factory=list, repr=False)
    children: list[Block] = field(default_factory=list, repr=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def match(self) -> str:
        return " ".join(self.args)

    def get(self, name: str) -> list[Directive]:
        """This block's own directives called `name`."""
        return [d for d in self.directives if d.name == name]

    def first(self, name: str) -> Directive | None:
        found = self.get(name)
        return found[0] if found else None

    def effective(self, name: str) -> list[Directive]:
        """What this block really uses: its own `name` directives, else its parent's (Nginx inheritance)."""
        own = self.get(name)
        if own or name in _NOT_INHERITED or self.parent is None:
            return own
        return self.parent.effective(name)

    def chain(self) -> list[Block]:
        """This block and its ancestors, innermost first."""
        out, block = [], self
        while block is not None:
            out.append(block)
            block = block.parent
        return out

    @property
    def server(self) -> Server | None:
        for block in self.chain():
            if isinstance(block, Server):
                return block
        return None

    @property
    def locations(self) -> list[Block]:
        return [c for c in self.children if c.kind == "location"]

    @property
    def ifs(self) -> list[Block]:
        return [c for c in self.children if c.kind == "if"]

    def walk(self) -> Iterator[Block]:
        yield self
        for child in self.children:
            yield from child.walk()

    def proxy_pass(self) -> Directive | None:
        """The proxy_pass that serves requests here: its own, or, in an `if`, its location's."""
        own = self.first("proxy_pass")
        if own is not None:
            return own
        if self.kind == "if" and self.parent is not None and self.parent.kind == "location":
            return self.parent.proxy_pass()
        return None

    def upstream(self) -> tuple[str, int] | None:
        """(host, port) of the proxy_pass that serves requests here, when it names one directly."""
        d = self.proxy_pass()
        match = _UPSTREAM.match(d.args[0]) if d is not None else None
        return (match.group("host"), int(match.group("port") or 80)) if match else None

    def proxies(self) -> bool:
        return self.proxy_pass() is not None and not self.get("return")

    def header(self, header: str) -> str | None:
        """The value this block sends upstream for `header` with proxy_set_header (None when not set)."""
        for d in self.effective("proxy_set_header"):
            if len(d.args) >= 2 and d.args[0].lower() == header.lower():
                return d.args[1]
        return None

    def response_headers(self) -> list[Directive]:
        """The add_header directives that apply to answers from this block."""
        return self.effective("add_header")


class Server(Block):
    @property
    def names(self) -> list[str]:
        return [a for d in self.get("server_name") for a in d.args]

    @property
    def listens(self) -> list[Listen]:
        return [_listen(d) for d in self.get("listen")] or [Listen("*", 80, False)]

    @property
    def ports(self) -> set[int]:
        return {lst.port for lst in self.listens}

    @property
    def ssl(self) -> bool:
        return any(lst.ssl for lst in self.listens) or any(d.args[:1] == ("on",) for d in self.get("ssl"))

    def contexts(self) -> list[Block]:
        """Every block of this server that answers requests: locations at any depth and their `if` blocks."""
        return [b for b in self.walk() if b.kind in ("location", "if") and b is not self]

    def proxy_locations(self) -> list[Block]:
        """Every block of this server that passes requests upstream."""
        return [b for b in self.contexts() if b.proxies()]

    def location_for(self, uri: str) -> Block:
        """The block that serves `uri` (the server itself when no location matches)."""
        return _find_location(self, uri) or self


def _listen(d: Directive) -> Listen:
    first = d.args[0]
    if first.startswith("unix:"):
        return Listen(first, 0, "ssl" in d.args[1:], "default_server" in d.args[1:] or "default" in d.args[1:])
    if first.startswith("["):
        address, _, port = first.rpartition("]:")
        address = address + "]" if port else first
        port = port or "80"
    elif first.isdigit():
        address, port = "*", first
    elif ":" in first:
        address, _, port = first.rpartition(":")
    else:
        address, port = first, "80"
    if address in ("*", "0.0.0.0"):
        address = "*"
    elif address == "[::]":
        address = "[::]"
    elif address == "localhost":
        address = "127.0.0.1"
    options = d.args[1:]
    return Listen(address, int(port), "ssl" in options, "default_server" in options or "default" in options)


@dataclass
class NginxConfig:
    directory: Path  # Nginx's prefix: relative paths in the config (ssl_certificate, include) start here
    files: list[str]  # every file read, relative to the deployment directory (else absolute), site files first
    http: Block
    servers: list[Server]
    # Why no config was read ("" when one was): a deployment behind another proxy, or without nginx/.
    not_read: str = ""
    # A copy of a server's files (DIR/etc/nginx/nginx.conf): the directory that stands for the server's /.
    sysroot: Path | None = None

    @property
    def read(self) -> bool:
        return not self.not_read

    def path_of(self, text: str) -> Path:
        """A path as Nginx resolves it: relative ones from the prefix; absolute ones, in a copy, from the copy."""
        if not os.path.isabs(text):
            return self.directory / text
        return self.sysroot / text.lstrip("/") if self.sysroot is not None else Path(text)

    def listening(self, port: int) -> list[tuple[str, int]]:
        """The addresses on which some server listens on `port`."""
        return sorted({lst.socket for s in self.servers for lst in s.listens if lst.port == port})

    def socket_for(self, address: str, port: int) -> tuple[str, int]:
        """The listening socket that gets connections to address:port: that exact one, else the family's wildcard."""
        if any(lst.socket == (address, port) for s in self.servers for lst in s.listens):
            return address, port
        return ("[::]" if address.startswith("[") else "*"), port

    def servers_on(self, address: str, port: int) -> list[Server]:
        """Servers that get connections to address:port, in configuration order."""
        socket = self.socket_for(address, port)
        return [s for s in self.servers if any(lst.socket == socket for lst in s.listens)]

    def default_server(self, address: str, port: int) -> Server | None:
        """The server of address:port for requests no name matches, and whose TLS settings every name gets: the one
        marked default_server, else the first."""
        socket = self.socket_for(address, port)
        candidates = self.servers_on(address, port)
        for server in candidates:
            if any(lst.default and lst.socket == socket for lst in server.listens):
                return server
        return candidates[0] if candidates else None

    def server_for(self, name: str, port: int, address: str = "*") -> Server | None:
        """The server Nginx picks for a request to address:port with Host (or SNI) `name`."""
        candidates = self.servers_on(address, port)
        host = name.lower().rstrip(".")
        exact = [s for s in candidates if any(n.lower() == host for n in s.names)]
        if exact:
            return exact[0]
        best: tuple[int, Server] | None = None
        for server in candidates:  # leading wildcards: *.example.com, .example.com
            for n in server.names:
                n = n.lower()
                if (n.startswith("*.") and host.endswith(n[1:]) and len(host) > len(n) - 1) or (
                    n.startswith(".") and (host == n[1:] or host.endswith(n))
                ):
                    best = _longer(best, len(n), server)
        if best:
            return best[1]
        for server in candidates:  # trailing wildcards: www.example.*
            for n in server.names:
                n = n.lower()
                if n.endswith(".*") and host.startswith(n[:-1]) and len(host) > len(n) - 1:
                    best = _longer(best, len(n), server)
        if best:
            return best[1]
        for server in candidates:  # regular expressions, in order
            for n in server.names:
                if n.startswith("~") and re.search(n[1:], host):
                    return server
        return self.default_server(address, port)

    def servers_for(self, name: str, port: int | None = None) -> list[Server]:
        """The servers Nginx picks for `name` on `port` (on each address some server listens on), or, without a
        port, every server that names it."""
        if port is None:
            return [s for s in self.servers if name in s.names]
        picked: list[Server] = []
        for address, _ in self.listening(port):
            server = self.server_for(name, port, address)
            if server is not None and server not in picked:
                picked.append(server)
        return picked

    def named_servers_for(self, name: str, port: int) -> list[Server]:
        """Like servers_for, without falling back to a default server that does not carry the name."""
        return [s for s in self.servers_for(name, port) if _names_match(s, name)]


def _names_match(server: Server, name: str) -> bool:
    host = name.lower()
    for n in server.names:
        n = n.lower()
        if n == host or (n.startswith("*.") and host.endswith(n[1:])) or (n.startswith(".") and host.endswith(n)):
            return True
        if n.startswith(".") and host == n[1:]:
            return True
        if n.endswith(".*") and host.startswith(n[:-1]):
            return True
        if n.startswith("~") and re.search(n[1:], host):
            return True
    return False


def _longer(best: tuple[int, Server] | None, length: int, server: Server) -> tuple[int, Server]:
    return (length, server) if best is None or length > best[0] else best


# --- location matching ------------------------------------------------------------------------------------------


def _kind_of(location: Block) -> tuple[str, str]:
    """(modifier, pattern): modifier is "=", "^~", "~", "~*", "@" or "" (a prefix)."""
    args = location.args
    if len(args) == 2:
        return args[0], args[1]
    text = args[0] if args else ""
    for modifier in ("=", "^~", "~*", "~", "@"):
        if text.startswith(modifier) and len(text) > len(modifier):
            return modifier, text[len(modifier) :]
    return "", text


def _find_location(parent: Block, uri: str) -> Block | None:
    found, _ = _find_in(parent, uri)
    return found


def _find_in(parent: Block, uri: str) -> tuple[Block | None, bool]:
    """ngx_http_core_find_location under `parent`: (the location, whether the search is final)."""
    statics = [(loc, *_kind_of(loc)) for loc in parent.locations]
    for loc, modifier, pattern in statics:
        if modifier == "=" and uri == pattern:
            return loc, True
    best: tuple[Block, str, str] | None = None
    for loc, modifier, pattern in statics:
        if modifier in ("", "^~") and uri.startswith(pattern) and (best is None or len(pattern) > len(best[2])):
            best = (loc, modifier, pattern)
    result: Block | None = None
    if best is not None:
        result = best[0]
        nested, final = _find_in(best[0], uri)
        if final:
            return nested, True
        if nested is not None:
            result = nested
        if best[1] == "^~":
            return result, True
    for loc, modifier, pattern in statics:
        if modifier in ("~", "~*") and re.search(pattern, uri, re.IGNORECASE if modifier == "~*" else 0):
            nested, _ = _find_in(loc, uri)
            return nested or loc, True
    return result, False


# --- reading --------------------------------------------------------------------------------------------------


# Where a server's own nginx.conf names its files; a copy of that tree (--nginx-conf) reads them from the copy.
_INSTALLED_PREFIX = "/etc/nginx/"


class _Reader:
    """Reads one config tree. `root` bounds what may be read (the deployment directory, or the tree of the
    nginx.conf given with --nginx-conf); `shown` is what file names are written relative to."""

    def __init__(
        self,
        root: Path,
        prefix: Path,
        shown: Path | None = None,
        *,
        copy_of_etc: bool = False,
        sysroot: Path | None = None,
    ) -> None:
        self.root = root.resolve()
        self.prefix = prefix
        self.shown = (shown or root).resolve()
        self.copy_of_etc = copy_of_etc
        self.sysroot = sysroot
        self.outside = "outside the deployment directory, not read (copy it into nginx/ so the gate judges what "
        "Nginx will load)"
        self.files: list[str] = []
        self.reads = 0

    def name(self, path: Path) -> str:
        resolved = _resolve(path)
        if resolved.is_relative_to(self.shown):
            return resolved.relative_to(self.shown).as_posix()
        return resolved.as_posix()

    def parse(self, path: Path) -> list[dict]:
        self.reads += 1
        if self.reads > MAX_NGINX_READS:
            raise BadInput(f"more than {MAX_NGINX_READS} Nginx files read through includes, the limit", path)
        # Nginx reads bytes, not UTF-8: only size, kind and NUL characters are refused here.
        read_text(path, utf8=False)
        name = self.name(path)
        if name not in self.files:
            self.files.append(name)
        _check_nesting(path)
        result = crossplane.parse(
            str(path), single=True, check_ctx=False, check_args=False, comments=False, strict=False
        )
        if result["errors"]:
            err = result["errors"][0]
            message = re.sub(r"\s+in\s+\S+:\d+$", "", err["error"])
            raise BadInput(f"invalid Nginx config: {message}", self.shown / name, err.get("line"))
        return result["config"][0]["parsed"]

    def included(self, pattern: str, where: str, depth: int, *, main: bool = False) -> list[Path]:
        """The files an include names, in Nginx's order. In the main context (`main`), files outside the tree are
        left out, not refused: Debian's modules-enabled/*.conf link to /usr/share (load_module lines, nothing the
        gate judges)."""
        if depth > MAX_INCLUDE_DEPTH:
            raise self.fail(f"include nested deeper than {MAX_INCLUDE_DEPTH} levels (an include cycle?)", where)
        full = pattern if os.path.isabs(pattern) else str(self.prefix / pattern)
        if os.path.isabs(pattern) and not _resolve(Path(full)).is_relative_to(self.root):
            if self.sysroot is not None:  # a copy of the server's files: its / is sysroot
                full = str(self.sysroot / full.lstrip("/"))
            elif self.copy_of_etc and full.startswith(_INSTALLED_PREFIX):  # a copy of /etc/nginx alone
                full = str(self.prefix / full[len(_INSTALLED_PREFIX) :])
        magic = glob.has_magic(full)
        paths = sorted(Path(p) for p in glob.glob(full)) if magic else [Path(full)]
        for path in paths:
            resolved = _resolve(path)
            if not resolved.is_relative_to(self.root):
                if main:
                    continue
                raise self.fail(f"include {pattern}: {self.outside}", where)
            if not glob.has_magic(full) and not resolved.is_file():
                raise self.fail(
                    f'include {pattern}: open() "{self.name(path)}" failed (No such file or directory)', where
                )
        return [p for p in paths if p.is_file() and (not main or _resolve(p).is_relative_to(self.root))]

    def fail(self, message: str, where: str) -> BadInput:
        file, _, line = where.rpartition(":")
        return BadInput(message, self.shown / file, int(line) if line.isdigit() else None)

    def build_main(self, statements: list[dict], file: str, http: Block, depth: int) -> None:
        """nginx.conf's main context: its includes followed, its http blocks built into `http`; the rest (events,
        user, worker settings, modules) is none of the gate's business."""
        for stmt in statements:
            where = f"{file}:{stmt['line']}"
            if stmt["directive"] == "include":
                if len(stmt.get("args", [])) != 1:
                    raise self.fail('invalid number of arguments in "include" directive', where)
                for path in self.included(stmt["args"][0], where, depth + 1, main=True):
                    self.build_main(self.parse(path), self.name(path), http, depth + 1)
            elif stmt["directive"] == "http" and "block" in stmt:
                if http.line:
                    raise self.fail(f'"http" directive is duplicate (first at {http.where})', where)
                http.file, http.line = file, stmt["line"]
                self.build(stmt["block"], file, http, ("http",), depth)

    def build(self, statements: list[dict], file: str, block: Block, ctx: tuple[str, ...], depth: int) -> None:
        seen: dict[str, Directive] = {}
        for stmt in statements:
            name = stmt["directive"]
            where = f"{file}:{stmt['line']}"
            if name == "include":
                if len(stmt.get("args", [])) != 1:
                    raise self.fail('invalid number of arguments in "include" directive', where)
                for path in self.included(stmt["args"][0], where, depth + 1):
                    self.build(self.parse(path), self.name(path), block, ctx, depth + 1)
                continue
            term = "{" if "block" in stmt else ";"
            try:
                analyze(file, stmt, term, ctx, strict=False, check_ctx=True, check_args=True)
            except NgxParserBaseException as exc:
                raise self.fail(str(exc.strerror), where) from None
            args = tuple(stmt.get("args", []))
            if "block" in stmt:
                if name in ("server", "location", "if", "limit_except"):
                    child_cls = Server if name == "server" else Block
                    child = child_cls(name, args, file, stmt["line"], parent=block)
                    if name == "location":
                        self.check_location(child, block, where)
                    block.children.append(child)
                    inner = ("http", "location") if name == "location" else (*ctx, name)
                    self.build(stmt["block"], file, child, inner, depth)
                continue
            directive = Directive(name, args, file, stmt["line"])
            if name in _SINGLE and name in seen:
                raise self.fail(f'"{name}" directive is duplicate (first at {seen[name].where})', where)
            seen[name] = directive
            block.directives.append(directive)

    def check_location(self, location: Block, parent: Block, where: str) -> None:
        modifier, pattern = _kind_of(location)
        prefix = modifier in ("", "^~")
        for sibling in parent.locations:
            other_modifier, other_pattern = _kind_of(sibling)
            same_kind = (other_modifier in ("", "^~")) == prefix and (prefix or other_modifier == modifier)
            if other_pattern == pattern and same_kind and modifier not in ("~", "~*"):
                raise self.fail(f'duplicate location "{pattern}"', where)
        if parent.kind != "location":
            return
        parent_modifier, parent_pattern = _kind_of(parent)
        if parent_modifier == "=":
            raise self.fail(f'location "{pattern}" cannot be inside the exact location "{parent_pattern}"', where)
        if parent_modifier == "@" or modifier == "@":
            raise self.fail(f'location "{pattern}" cannot be inside a named location', where)
        if modifier not in ("~", "~*") and not pattern.startswith(parent_pattern):
            raise self.fail(f'location "{pattern}" is outside location "{parent_pattern}"', where)


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a link loop: the reader says so, naming the file
        read_text(path, utf8=False)
        raise


def _check_nesting(path: Path) -> None:
    """Blocks nested past MAX_NESTING are refused before crossplane parses them (it recurses per block)."""
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


def load_nginx(directory: Path, root: Path | None = None) -> NginxConfig:
    """The Nginx tree of a deployment's site configs (`directory`/*.conf), as Nginx builds it."""
    if not directory.is_dir():
        raise BadInput("directory not found (the Nginx site configs belong here)", directory)
    files = sorted(p for p in directory.glob("*.conf"))
    if not files:
        raise BadInput("no *.conf site configs found", directory)
    if len(files) > MAX_NGINX_FILES:
        raise BadInput(f"more than {MAX_NGINX_FILES} *.conf site configs, the limit", directory)
    reader = _Reader(root or directory.parent, directory)
    for path in files:
        read_text(path, utf8=False)  # a directory, a link loop, a FIFO, a file past the size bound: one line
        if not _resolve(path).is_relative_to(reader.root):
            raise BadInput("a link to a file outside the deployment directory, not read (copy the file in)", path)
    http = Block("http", (), reader.name(files[0]), 0)
    for path in files:
        reader.build(reader.parse(path), reader.name(path), http, ("http",), 0)
    return _finish(directory, reader, http)


def load_nginx_conf(conf: Path, shown: Path | None = None, prefix: Path | None = None) -> NginxConfig:
    """The tree of a main nginx.conf, as `nginx -T` reads it: its includes resolved where they stand (globs in name
    order, sites-enabled symlinks followed, relative paths from the prefix: the file's directory unless given).
    Files outside the conf's directory tree are not read; in a copy of a server's /etc/nginx (the conf is not there
    itself), the absolute /etc/nginx/... paths it names are read from the copy, and in a copy laid out as the
    server's files (DIR/etc/nginx/nginx.conf), every absolute path is read under DIR (certbot's
    /etc/letsencrypt/options-ssl-nginx.conf, the certificates), and nothing outside DIR. File names are shown
    relative to `shown` (the deployment directory) when inside it."""
    conf = Path(conf)
    read_text(conf, utf8=False)  # missing, a directory, a FIFO, too large: one line naming it
    prefix = Path(prefix) if prefix is not None else conf.parent
    installed = _resolve(conf).is_relative_to(_INSTALLED_PREFIX.rstrip("/"))
    # A copy laid out as the server's files (<copy>/etc/nginx/nginx.conf): /etc/letsencrypt/... is <copy>/etc/...
    parts = _resolve(conf.parent).parts
    sysroot = Path(*parts[:-2]) if not installed and parts[-2:] == ("etc", "nginx") and prefix == conf.parent else None
    allowed = sysroot if sysroot is not None else _resolve(prefix)
    reader = _Reader(allowed, prefix, shown, copy_of_etc=not installed, sysroot=sysroot)
    reader.outside = (
        f"outside {allowed}, the tree of the nginx.conf given, not read (copy what it includes into a copy of the "
        "server's files, DIR/etc/nginx/nginx.conf and DIR/etc/letsencrypt/..., and give that nginx.conf)"
    )
    http = Block("http", (), reader.name(conf), 0)
    reader.build_main(reader.parse(conf), reader.name(conf), http, 0)
    config = _finish(prefix, reader, http)
    config.sysroot = sysroot
    return config


def not_read(directory: Path, why: str) -> NginxConfig:
    """The model of a deployment whose proxy config is not read: no servers, and the reason."""
    return NginxConfig(directory=directory, files=[], http=Block("http", (), "", 0), servers=[], not_read=why)


def _finish(directory: Path, reader: _Reader, http: Block) -> NginxConfig:
    servers = [b for b in http.children if isinstance(b, Server)]
    config = NginxConfig(directory=directory, files=reader.files, http=http, servers=servers)
    _check_defaults(config, reader)
    return config


def _check_defaults(config: NginxConfig, reader: _Reader) -> None:
    """Nginx refuses two default servers for one address and port."""
    seen: dict[tuple[str, int], Directive] = {}
    for server in config.servers:
        for d in server.get("listen"):
            listen = _listen(d)
            if not listen.default:
                continue
            if listen.socket in seen:
                raise reader.fail(f"a duplicate default server for {listen.address}:{listen.port}", d.where)
            seen[listen.socket] = d
