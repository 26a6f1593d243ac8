"""A check with a weak proof, for tests/static/test_mutation.py: its one fault trips both branches and names a phrase
both share, so disabling either branch goes unnoticed — the mutation run must report both as survivors; with a
second fault naming each branch's own phrase, both are killed."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.registry import Finding


def weak(d) -> Iterator[Finding]:
    if d.env.get("WEAK_A"):
        yield Finding("weak: A is set")
    if d.env.get("WEAK_B"):
        yield Finding("weak: B is set")
