"""The deployment's `.env`: parsed with python-dotenv's parser (the dotenv rules Compose also follows), kept with
the line of every key so that findings can point at it."""

from __future__ import annotations

import io
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv.parser import parse_stream

from lobestack.deployment.interpolation import interpolate
from lobestack.errors import BadInput, InterpolationError

_SINGLE_QUOTED = re.compile(r"^\s*(?:export\s+)?[^=]+=\s*'")
# A value that dotenv and Compose both read back unchanged without quotes.
_BARE_SAFE = re.compile(r"^[A-Za-z0-9_./:@%+=,~-]*$")

# Names whose values are secrets: they never reach a log, report, trace or screenshot.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY)", re.IGNORECASE)


@dataclass(frozen=True)
class EnvFile:
    path: Path
    values: dict[str, str]
    lines: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    def where(self, key: str) -> str:
        """`file:line` of a key, or the file alone when the key is absent."""
        line = self.lines.get(key)
        return f"{self.path.name}:{line}" if line else self.path.name

    def secret_values(self) -> list[str]:
        return [v for k, v in self.values.items() if SECRET_NAME.search(k) and v]


def parse_env_text(text: str, path: Path, lookup: Mapping[str, str] | None = None) -> EnvFile:
    """`lookup`: variables from outside the file (an env_file of a service sees the project's, and those of its
    earlier env_files); as in Compose they win over the file's own earlier values, and a bare `KEY` line takes its
    value from them (or is left out)."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    scope: Mapping[str, str] = ChainMap(dict(lookup), values) if lookup is not None else values
    for binding in parse_stream(io.StringIO(text)):
        # dotenv counts a binding from the blank lines before it; point at the KEY=value line itself.
        raw_text = binding.original.string
        line = binding.original.line + raw_text[: len(raw_text) - len(raw_text.lstrip())].count("\n")
        if binding.error:
            raw = binding.original.string.strip()
            hint = "unterminated quote" if raw.count('"') % 2 or raw.count("'") % 2 else "expected KEY=VALUE"
            raise BadInput(f"cannot parse {raw[:60]!r}: {hint}", path, line)
        if binding.key is None:
            continue
        if binding.value is None and lookup is not None:  # `KEY` alone: inherited from outside, or absent
            if binding.key in lookup:
                values[binding.key] = lookup[binding.key]
                lines[binding.key] = line
            continue
        value = binding.value or ""
        if not _SINGLE_QUOTED.match(binding.original.string):
            try:
                value = interpolate(value, scope)
            except InterpolationError as exc:
                raise BadInput(str(exc), path, line) from None
        values[binding.key] = value
        lines[binding.key] = line
    return EnvFile(path=path, values=values, lines=lines)


def load_env(path: Path) -> EnvFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("file not found (render one with `python -m lobestack init`)", path) from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 text (byte {exc.start})", path) from None
    return parse_env_text(text, path)


def format_env_line(key: str, value: str) -> str:
    """One `KEY=value` line that dotenv and Compose both read back as exactly `value`.

    Backslashes and line breaks are refused: dotenv's quoted forms cannot end a value with a backslash (`"\\"`
    swallows the quote) and do not keep a lone line break, and no value lobestack writes needs them."""
    if "\\" in value or "\n" in value or "\r" in value:
        raise ValueError(f"{key}: a value with a backslash or line break cannot be written to .env safely")
    if _BARE_SAFE.match(value):
        return f"{key}={value}"
    if "'" not in value:
        return f"{key}='{value}'"  # single quotes: no escapes, no interpolation
    escaped = value.replace('"', '\\"').replace("$", "$$")
    return f'{key}="{escaped}"'
