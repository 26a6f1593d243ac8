"""The deployment's `.env`: parsed with python-dotenv's parser (the dotenv rules Compose also follows), kept with
the line of every key so that findings can point at it."""

from __future__ import annotations

import io
import re
from collections import ChainMap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from dotenv.parser import parse_stream

from lobestack.deployment.interpolation import interpolate
from lobestack.deployment.known_values import is_public
from lobestack.deployment.limits import ExpansionBudget, read_text
from lobestack.errors import BadInput, InterpolationError

_SINGLE_QUOTED = re.compile(r"^\s*(?:export\s+)?[^=]+=\s*'")
# A value that dotenv and Compose both read back unchanged without quotes.
_BARE_SAFE = re.compile(r"^[A-Za-z0-9_./:@%+=,~-]*$")

# Names whose values are secrets: they never reach a log, report, trace or screenshot.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY)", re.IGNORECASE)
# The key of a line, when it has one that looks like a key (a line that does not parse is never quoted).
_KEY_OF_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=")
_RAW_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([^=\s#]+)\s*=(.*)$")


@dataclass(frozen=True)
class EnvFile:
    path: Path
    values: dict[str, str]
    lines: dict[str, int] = field(default_factory=dict)
    # Keys whose text refers to a variable that is not set (`ab$cd`): Compose substitutes nothing for it.
    unset_references: frozenset[str] = frozenset()

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    def where(self, key: str) -> str:
        """`file:line` of a key, or the file alone when the key is absent."""
        line = self.lines.get(key)
        return f"{self.path.name}:{line}" if line else self.path.name

    def secret_values(self) -> list[str]:
        """The values of secret-named keys and the passwords in URL values, less the public ones (placeholders,
        published examples): those are findings, not secrets to mask."""
        values = [v for k, v in self.values.items() if SECRET_NAME.search(k) and v and not is_public(v)]
        return values + [p for p in url_passwords(self.values.values()) if p not in values]


def parse_env_text(text: str, path: Path, lookup: Mapping[str, str] | None = None) -> EnvFile:
    """`lookup`: variables from outside the file (an env_file of a service sees the project's, and those of its
    earlier env_files); as in Compose they win over the file's own earlier values, and a bare `KEY` line takes its
    value from them (or is left out)."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    scope: Mapping[str, str] = ChainMap(dict(lookup), values) if lookup is not None else values
    unset_references: set[str] = set()
    budget = ExpansionBudget()
    for binding in parse_stream(io.StringIO(text)):
        # dotenv counts a binding from the blank lines before it; point at the KEY=value line itself.
        raw_text = binding.original.string
        line = binding.original.line + raw_text[: len(raw_text) - len(raw_text.lstrip())].count("\n")
        if binding.error:
            # Never quote the line: it may hold a secret. Its key (when it has one) and its line say where.
            raw = raw_text.strip()
            hint = "unterminated quote" if raw.count('"') % 2 or raw.count("'") % 2 else "expected KEY=VALUE"
            key = _KEY_OF_LINE.match(raw)
            subject = f"the value of {key.group(1)}" if key else "this line"
            raise BadInput(f"cannot parse {subject}: {hint}", path, line)
        if binding.key is None:
            continue
        if binding.value is None and lookup is not None:  # `KEY` alone: inherited from outside, or absent
            if binding.key in lookup:
                values[binding.key] = lookup[binding.key]
                lines[binding.key] = line
            continue
        value = binding.value or ""
        if not _SINGLE_QUOTED.match(binding.original.string):
            unset: list[str] = []
            try:
                value = interpolate(value, scope, unset=unset, budget=budget)
            except InterpolationError as exc:
                reason = exc.safe if SECRET_NAME.search(binding.key) else str(exc)
                raise BadInput(f"{binding.key}: {reason}", path, line) from None
            if unset:
                unset_references.add(binding.key)
        values[binding.key] = value
        lines[binding.key] = line
    return EnvFile(path=path, values=values, lines=lines, unset_references=frozenset(unset_references))


def load_env(path: Path) -> EnvFile:
    return parse_env_text(read_text(path, missing="file not found (render one with `python -m lobestack init`)"), path)


# The password of a URL's user info, up to the last `@` (a password may hold `/`, which ends urlsplit's netloc).
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:(.+)@[^@]*$")


def url_passwords(values: Iterable[str]) -> list[str]:
    """The passwords in the user info of URL values (DATABASE_URL, Logto's DB_URL): secrets whatever their key is
    called, as written and percent-decoded; public ones left out."""
    found: list[str] = []
    for value in values:
        match = _URL_PASSWORD.match(value.strip().strip("'\""))
        if match is None:
            continue
        for password in (match.group(1), unquote(match.group(1))):
            if password and password not in found and not is_public(password):
                found.append(password)
    return found


def raw_secret_values(text: str) -> list[str]:
    """What may be the values of secret-named keys in `.env` text, found line by line without parsing it, so that
    masking is in force before the parser reads a byte: the text after `=`, as written and unescaped; and the
    passwords of URL values."""
    found = []
    for line in text.splitlines():
        match = _RAW_ASSIGNMENT.match(line)
        if match and "://" in match.group(2):
            found += url_passwords([match.group(2)])
        if not match or not SECRET_NAME.search(match.group(1)):
            continue
        raw = match.group(2).strip()
        if is_public(raw) or (len(raw) > 1 and raw[0] == raw[-1] and raw[0] in "'\"" and is_public(raw[1:-1])):
            continue  # a placeholder, quoted or not: public, and a finding of its own
        found.append(raw)
        found.append(raw.replace('\\"', '"').replace("\\\\", "\\"))
    return found


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


def update_env_file(path: Path, values: dict[str, str], *, comment: str = "") -> list[str]:
    """Set `values` in the .env at `path`, keeping every other line, comment and the file's mode; a key that is
    absent is appended (after `comment`, when given). Returns the keys whose value changed. The file is replaced
    atomically (a crash never leaves half a .env)."""
    import os
    import tempfile

    text = path.read_text(encoding="utf-8")
    current = parse_env_text(text, path).values
    changed = [k for k, v in values.items() if current.get(k) != v]
    if not changed:
        return []
    lines = text.splitlines()
    pending = {k: values[k] for k in changed}
    for i, line in enumerate(lines):
        key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        key = key.removeprefix("export ").strip() if key else None
        if key in pending:
            lines[i] = format_env_line(key, pending[key])
    missing = [k for k in changed if k not in current]
    if missing:
        if comment:
            lines.append(f"# {comment}")
        lines.extend(format_env_line(k, values[k]) for k in missing)
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".env.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return changed
