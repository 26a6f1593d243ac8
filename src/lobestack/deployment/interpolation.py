"""Compose variable interpolation, as the Compose specification defines it.

Supported: `$$` (a literal `$`), `$VAR`, `${VAR}`, `${VAR:-default}` / `${VAR-default}`,
`${VAR:?error}` / `${VAR?error}`, `${VAR:+replacement}` / `${VAR+replacement}`; defaults and replacements may
themselves contain expressions (`${A:-${B}}`). Substituted values are never interpolated again.

Cost is bounded: expressions nest at most MAX_INTERPOLATION_NESTING deep, and the characters substituted are
charged to an ExpansionBudget. Error messages never quote the text: it may be a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lobestack.deployment.limits import MAX_INTERPOLATION_NESTING, ExpansionBudget
from lobestack.errors import InterpolationError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


@dataclass
class _Run:
    lookup: Callable[[str], str | None]
    budget: ExpansionBudget
    missing: list[str] | None
    unset: list[str] | None
    depth: int = 0

    def value_of(self, name: str) -> str | None:
        value = self.lookup(name)
        if value:
            self.budget.spend(len(value))
        return value


def interpolate(
    text: str,
    variables: Mapping[str, str],
    *,
    missing: list[str] | None = None,
    unset: list[str] | None = None,
    budget: ExpansionBudget | None = None,
) -> str:
    """Return `text` with every expression resolved from `variables`; raise InterpolationError otherwise.

    With `missing` (a list), a `${VAR:?err}` whose variable has no value is resolved to "" and its message is
    appended instead of raised (a gate reports it as a finding; `docker compose` would refuse to start).
    With `unset` (a list), the names of plain `$VAR` / `${VAR}` references to unset variables are appended
    (Compose substitutes nothing for them, with a warning). `budget` is shared by all strings of one file."""
    run = _Run(variables.get, budget or ExpansionBudget(), missing, unset)
    out, end = _scan(text, 0, run, stop_at_brace=False)
    assert end == len(text)
    return out


def _scan(text: str, pos: int, run: _Run, *, stop_at_brace: bool) -> tuple[str, int]:
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
            value, i = _braced(text, i + 2, run)
            parts.append(value)
        else:
            match = _NAME.match(text, i + 1)
            if match:
                value = run.value_of(match.group())
                if value is None and run.unset is not None:
                    run.unset.append(match.group())
                parts.append(value or "")
                i = match.end()
            else:  # a lone `$` is kept, as Compose does
                parts.append("$")
                i += 1
    if stop_at_brace:
        raise InterpolationError("unterminated '${' (no closing '}')")
    return "".join(parts), i


def _braced(text: str, pos: int, run: _Run) -> tuple[str, int]:
    match = _NAME.match(text, pos)
    if not match:
        if pos == len(text):
            raise InterpolationError("unterminated '${' (no closing '}')")
        raise InterpolationError("invalid variable name after '${'")
    name = match.group()
    i = match.end()
    if i < len(text) and text[i] == "}":
        value = run.value_of(name)
        if value is None and run.unset is not None:
            run.unset.append(name)
        return value or "", i + 1
    if i == len(text):
        raise InterpolationError("unterminated '${' (no closing '}')")
    operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
    if operator is None:
        raise InterpolationError("invalid '${' expression (expected ${NAME}, ${NAME:-default}, ${NAME:?error} ...)")
    if run.depth >= MAX_INTERPOLATION_NESTING:
        raise InterpolationError(f"'${{' expressions nest deeper than {MAX_INTERPOLATION_NESTING}, the limit")
    run.depth += 1
    argument, end = _scan(text, i + len(operator), run, stop_at_brace=True)
    run.depth -= 1
    value = run.lookup(name)
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
            if run.missing is None:
                raise InterpolationError(message, safe="a required variable of its ${...:?} has no value")
            run.missing.append(message)
        result = value
    if result and result is value:
        run.budget.spend(len(result))
    return result or "", end + 1


def escape(text: str) -> str:
    """The Compose-literal form of `text`: interpolating it gives `text` back."""
    return text.replace("$", "$$")
