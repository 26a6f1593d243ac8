"""The bounds of every input the gate reads, and the one reader of input files that enforces them.

A file past a bound is refused (exit 4, one line naming the file and line) in well under a second and a few MB,
whatever is in it. The bounds sit far above any real deployment: the bundle's own files are a few KB, its Compose
file has about 400 YAML nodes and nests 8 deep."""

from __future__ import annotations

import errno
import stat
from pathlib import Path

from lobestack.errors import BadInput, InterpolationError

# .env, the Compose file, each Nginx site config, minio/init.sh. Pure-Python YAML reads ~400 KB/s: a file at the
# limit still parses in under a second.
MAX_FILE_BYTES = 256 * 1024
MAX_NGINX_FILES = 64
# YAML nodes of the Compose file, counting every alias as the nodes it stands for (an alias bomb is small text).
MAX_YAML_NODES = 50_000
# Nesting of YAML collections (aliases expanded) and of Nginx blocks: far below Python's recursion limit.
MAX_NESTING = 64
# `${A:-${B:-...}}` nesting in one interpolated string.
MAX_INTERPOLATION_NESTING = 16
# Characters that interpolation may substitute in one file: `.env` values that double each other through `${…}`
# stop here instead of growing to gigabytes.
MAX_EXPANSION_CHARS = 1024 * 1024


def read_text(path: Path, *, missing: str = "file not found", limit: int = MAX_FILE_BYTES, utf8: bool = True) -> str:
    """The text of an input file: a regular file, at most `limit` bytes, UTF-8 (or, with `utf8=False`, any bytes,
    undecodable ones replaced), without NUL characters.

    Anything else is a BadInput naming the file (and the line, where there is one)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise BadInput(missing, path) from None
    except OSError as exc:
        raise BadInput(_os_reason(exc), path) from None
    if stat.S_ISDIR(info.st_mode):
        raise BadInput("is a directory, not a file", path)
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read, a device would never end
        raise BadInput("is not a regular file", path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise BadInput(_os_reason(exc), path) from None
    if len(data) > limit:
        raise BadInput(f"is larger than {limit // 1024} KiB, the limit for an input file", path, _line(data, limit))
    try:
        text = data.decode("utf-8", errors="strict" if utf8 else "replace")
    except UnicodeDecodeError as exc:
        raise BadInput(f"is not UTF-8 text (byte {exc.start})", path, _line(data, exc.start)) from None
    nul = text.find("\0")
    if nul >= 0:
        raise BadInput("contains a NUL character", path, text.count("\n", 0, nul) + 1)
    return text


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read: permission denied"
    if exc.errno == errno.ENOTDIR:
        return "file not found (a parent is not a directory)"
    return f"cannot be read: {(exc.strerror or type(exc).__name__).lower()}"


class ExpansionBudget:
    """Characters that interpolation may still substitute in one file (shared by all its strings)."""

    def __init__(self, limit: int = MAX_EXPANSION_CHARS) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, chars: int) -> None:
        self.left -= chars
        if self.left < 0:
            raise InterpolationError(
                f"interpolation expands past {self.limit // 1024} KiB in this file, the limit (values that "
                "repeat each other through ${...}?)"
            )
