"""docs/checks.md is generated from the registry; a stale catalogue fails here."""

from __future__ import annotations

from lobestack.checks.catalogue import render_catalogue
from lobestack.checks.registry import all_checks
from tests.conftest import REPO


def test_catalogue_is_current() -> None:
    current = (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    assert current == render_catalogue(), "docs/checks.md is stale: run `python -m lobestack catalogue`"


def test_catalogue_lists_every_check() -> None:
    text = render_catalogue()
    for c in all_checks(layer=None):
        assert f"`{c.id}`" in text
