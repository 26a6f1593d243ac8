"""Compose interpolation: examples from the Compose specification, and properties (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lobestack.deployment.interpolation import escape, interpolate
from lobestack.errors import InterpolationError

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
PLAIN = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="$}"), max_size=20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${A}", "a"),
        ("$A/x", "a/x"),
        ("${UNSET}", ""),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET:-${A}}", "a"),
        ("${UNSET:-${UNSET2:-deep}}", "deep"),
        ("$$A", "$A"),
        ("$${A}", "${A}"),
        ("cost: 5$", "cost: 5$"),
        ("pg_isready -U $${POSTGRES_USER}", "pg_isready -U ${POSTGRES_USER}"),
    ],
)
def test_spec_examples(text: str, expected: str) -> None:
    assert interpolate(text, {"A": "a", "EMPTY": ""}) == expected


@pytest.mark.parametrize("text", ["${UNSET:?need it}", "${EMPTY:?need it}", "${UNSET?x}"])
def test_required_variable_raises_with_its_message(text: str) -> None:
    with pytest.raises(InterpolationError, match="required variable"):
        interpolate(text, {"EMPTY": ""})


def test_required_variable_is_collected_when_asked() -> None:
    missing: list[str] = []
    assert interpolate("x${UNSET:?set UNSET in .env}y", {}, missing=missing) == "xy"
    assert missing == ["required variable UNSET is missing a value: set UNSET in .env"]


@pytest.mark.parametrize("text", ["${A", "${}", "${1A}", "${A:-x", "${A!}"])
def test_bad_syntax_raises(text: str) -> None:
    with pytest.raises(InterpolationError):
        interpolate(text, {"A": "a"})


@given(TEXT)
def test_escaped_text_round_trips(text: str) -> None:
    assert interpolate(escape(text), {}) == text


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="$"), max_size=40))
def test_text_without_dollar_is_unchanged(text: str) -> None:
    assert interpolate(text, {"A": "x"}) == text


@given(NAMES, TEXT)
def test_substituted_values_are_not_interpolated_again(name: str, value: str) -> None:
    assert interpolate("${" + name + "}", {name: value}) == value


@given(NAMES, st.one_of(st.none(), TEXT), PLAIN)
def test_default_operators(name: str, value: str | None, default: str) -> None:
    env = {} if value is None else {name: value}
    assert interpolate(f"${{{name}:-{default}}}", env) == (value or default)
    assert interpolate(f"${{{name}-{default}}}", env) == (default if value is None else value)
    assert interpolate(f"${{{name}:+{default}}}", env) == (default if value else "")
    assert interpolate(f"${{{name}+{default}}}", env) == ("" if value is None else default)
