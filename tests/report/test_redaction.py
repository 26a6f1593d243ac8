from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lobestack.redaction import MASK, Redactor


def test_masks_every_secret_longest_first() -> None:
    redact = Redactor(["abcdef123", "abcdef123456", "short"])
    assert redact("x abcdef123456 y abcdef123 z") == f"x {MASK} y {MASK} z"
    assert redact("short stays") == "short stays"  # too short to mask safely; ENV-SECRET-STRENGTH flags it


def test_empty_redactor_is_identity() -> None:
    assert Redactor()("anything") == "anything"
    assert not Redactor([""])


def test_scrub_file(tmp_path: Path) -> None:
    path = tmp_path / "r.xml"
    path.write_text("<a>s3cr3t-value</a>")
    assert Redactor(["s3cr3t-value"]).scrub_file(path)
    assert path.read_text() == f"<a>{MASK}</a>"


NO_STAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="*")


@given(st.text(NO_STAR, min_size=6, max_size=30), st.text(NO_STAR, max_size=30), st.text(NO_STAR, max_size=30))
def test_secret_never_survives(secret: str, before: str, after: str) -> None:
    assert secret not in Redactor([secret])(before + secret + after + secret)


def test_pieces_of_a_secret_are_masked_too() -> None:
    redact = Redactor(["pa55w0rd@lobe-db/evil"])
    assert redact("host lobe-db/evil and pa55w0rd") == f"host {MASK} and {MASK}"
    assert redact("lobe-d is a piece, lobe- is too short") == f"{MASK} is a piece, lobe- is too short"


@given(st.text(NO_STAR, min_size=6, max_size=30), st.integers(0, 24), st.text(NO_STAR, max_size=30))
def test_no_piece_of_six_survives(secret: str, start: int, around: str) -> None:
    piece = secret[start : start + 6]
    if len(piece) < 6:
        return
    masked = Redactor([secret])(around + piece + around)
    assert piece not in masked
