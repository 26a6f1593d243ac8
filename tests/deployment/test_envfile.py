"""The .env reader: dotenv rules, line numbers, and round trips of what `init` writes (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lobestack.deployment.envfile import format_env_line, parse_env_text
from lobestack.errors import BadInput

KEYS = st.from_regex(r"[A-Z_][A-Z0-9_]{0,15}", fullmatch=True)
VALUES = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n\\"), max_size=60
) | st.text(st.sampled_from("ab$'\" #="), max_size=12)


@given(st.dictionaries(KEYS, VALUES, max_size=8))
def test_written_values_read_back_exactly(values: dict[str, str]) -> None:
    text = "# header\n" + "\n".join(format_env_line(k, v) for k, v in values.items()) + "\n"
    assert parse_env_text(text, Path(".env")).values == values


def test_backslash_values_are_refused() -> None:
    with pytest.raises(ValueError, match="backslash"):
        format_env_line("K", "a\\")


def test_lines_comments_export_and_interpolation() -> None:
    env = parse_env_text("# c\nA=1\n\nexport B=${A}x\nC='${A}'\nD=\"q ${B}\"\n", Path(".env"))
    assert env.values == {"A": "1", "B": "1x", "C": "${A}", "D": "q 1x"}
    assert env.lines == {"A": 2, "B": 4, "C": 5, "D": 6}
    assert env.where("D") == ".env:6"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [('A=1\nB="open\nC=3\n', 2, "unterminated quote"), ("A=1\nnot a pair\n", 2, "expected KEY=VALUE")],
)
def test_malformed_lines_name_file_and_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(BadInput) as err:
        parse_env_text(text, Path("deploy/.env"))
    assert str(err.value).startswith(f"deploy/.env:{line}: ") and reason in str(err.value)


def test_secret_values_are_those_of_secret_names() -> None:
    env = parse_env_text("APP_URL=https://x\nNEXT_AUTH_SECRET=s1\nLOBE_DB_PASSWORD=p1\nS3_ACCESS_KEY_ID=k\n", Path("e"))
    assert sorted(env.secret_values()) == ["p1", "s1"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('LOGTO_DB_PASSWORD="8BohVq2k9Zx\n', "cannot parse the value of LOGTO_DB_PASSWORD: unterminated quote"),
        ("LOGTO_DB_PASSWORD=8BohVq${2k9Zx\n", "LOGTO_DB_PASSWORD: invalid variable name after '${'"),
        ("LOGTO_DB_PASSWORD=8Boh${Vq2k9Zx\n", "LOGTO_DB_PASSWORD: unterminated '${'"),
        ("LOGTO_DB_PASSWORD=8Boh${Vq2k9Zx!}\n", "LOGTO_DB_PASSWORD: invalid '${' expression"),
        ("LOGTO_DB_PASSWORD=${Vq2k9Zx:?8BohVq}\n", "LOGTO_DB_PASSWORD: a required variable of its ${...:?} has"),
    ],
)
def test_errors_name_the_key_and_line_never_the_value(text: str, reason: str) -> None:
    with pytest.raises(BadInput) as err:
        parse_env_text("A=1\n" + text, Path(".env"))
    assert str(err.value).startswith(f".env:2: {reason}")
    assert not any(piece in str(err.value) for piece in ("8Boh", "Vq2k", "9Zx"))


def test_references_to_unset_variables_are_recorded() -> None:
    env = parse_env_text("A=1\nB=x$A\nC=ab$cd\nD=${E:-e}\nF=${G}\n", Path(".env"))
    assert env.unset_references == {"C", "F"}
