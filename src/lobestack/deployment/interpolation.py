"""Compose variable interpolation, as the Compose specification defines it.

Supported: `$$` (a literal `$`), `$VAR`, `${VAR}`, `${VAR:-default}` / `${VAR-default}`,
`${VAR:?error}` / `${VAR?error}`, `${VAR:+replacement}` / `${VAR+replacement}`; defaults and replacements may
themselves contain expressions (`${A:-${B}}`). Substituted values are never interpolated again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lobestack.errors import InterpolationError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


def interpolate(text: str, variables: Mapping[str, str], *, missing: list[str] | None = None) -> str:
    """Return `text` with every expression resolved from `variables`; raise InterpolationError otherwise.

    With `missing` (a list), a `${VAR:?err}` whose variable has no value is resolved to "" and its message is
    appended instead of raised (a gate reports it as a finding; `docker compose` would refuse to start)."""
    out, end = _scan(text, 0, variables.get, stop_at_brace=False, missing=missing)
    assert end == len(text)
    return out


def _scan(
    text: str, pos: int, lookup: Callable[[str], str | None], *, stop_at_brace: bool, missing: list[str] | None
) -> tuple[str, int]:
    """Interpolate from `pos`; stop at the end, or at an unmatched `}` when inside a braced expression."""
    parts: list[str] = []
    i = pos
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "}" and stop_at_brace:
            return "".join(parts), i
        if ch != "$":
            parts.append(ch)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if nxt == "$":
            parts.append("$")
            i += 2
        elif nxt == "{":
            value, i = _braced(text, i + 2, lookup, missing)
            parts.append(value)
        else:
            match = _NAME.match(text, i + 1)
            if match:
                parts.append(lookup(match.group()) or "")
                i = match.end()
            else:  # a lone `$` is kept, as Compose does
                parts.append("$")
                i += 1
    if stop_at_brace:
        raise InterpolationError(f"unterminated '${{' in {text!r}")
    return "".join(parts), i


def _braced(text: str, pos: int, lookup: Callable[[str], str | None], missing: list[str] | None) -> tuple[str, int]:
    match = _NAME.match(text, pos)
    if not match:
        raise InterpolationError(f"invalid variable name after '${{' in {text!r}")
    name = match.group()
    value = lookup(name)
    i = match.end()
    if i < len(text) and text[i] == "}":
        return value or "", i + 1
    operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
    if operator is None:
        raise InterpolationError(f"invalid expression '${{{name}{text[i : i + 1]}' in {text!r}")
    argument, end = _scan(text, i + len(operator), lookup, stop_at_brace=True, missing=missing)
    unset_or_empty = not value
    unset = value is None
    if operator == ":-":
        result = argument if unset_or_empty else value
    elif operator == "-":
        result = argument if unset else value
    elif operator == ":+":
        result = "" if unset_or_empty else argument
    elif operator == "+":
        result = "" if unset else argument
    else:  # ":?" / "?"
        if (operator == ":?" and unset_or_empty) or (operator == "?" and unset):
            message = f"required variable {name} is missing a value: {argument}".rstrip(": ")
            if missing is None:
                raise InterpolationError(message)
            missing.append(message)
        result = value
    return result or "", end + 1


def escape(text: str) -> str:
    """The Compose-literal form of `text`: interpolating it gives `text` back."""
    return text.replace("$", "$$")
