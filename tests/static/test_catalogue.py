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


def test_catalogue_gives_each_checks_impact() -> None:
    text = render_catalogue()
    for c in all_checks(layer=None):
        assert f"| `{c.id}` | {c.impact} |" in text


def test_each_proof_command_selects_the_checks_proofs() -> None:
    """The command the catalogue gives under each check's faults collects tests of that check, in each file named."""
    import subprocess
    import sys

    from lobestack.checks.catalogue import proof_command

    commands = {c.id: proof_command(c).split() for c in all_checks(layer=None)}
    files = sorted({arg for argv in commands.values() for arg in argv if arg.startswith("tests/")})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    for check_id, argv in commands.items():
        assert argv[:3] == ["python", "-m", "pytest"] and argv[-2:] == ["-k", check_id]
        for file in argv[3:-2]:
            assert any(line.startswith(f"{file}::") and f"[{check_id}" in line for line in collected), (check_id, file)
