"""Branch-level mutation of the static checks (tests/mutation.py): every `yield Finding(...)` of every check is
disabled in turn, and the check's own faults must notice — one of them no longer produces the finding it names.
A surviving branch is a kind of problem the check claims to catch that no proof shows it catching."""

from __future__ import annotations

import time

import pytest

from lobestack.checks import Check, Group, all_checks
from lobestack.checks.faults import SetEnv, fault
from tests import mutation
from tests.data import weak_check
from tests.static.proofs import Variants

CHECKS = all_checks()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_no_finding_branch_survives(check: Check, variants: Variants) -> None:
    t0 = time.perf_counter()
    subjects = [(str(f), f.expect or "", variants.of(f)) for f in check.faults]
    verdicts = list(mutation.run(check, subjects))
    mutation.RESULTS.append(mutation.Result("static", check.id, verdicts, time.perf_counter() - t0))
    assert verdicts, f"{check.id} has no `yield Finding(...)` branch: it cannot fail"
    survivors = [str(v.branch) for v in verdicts if v.killed_by is None]
    assert not survivors, "branches no fault reaches (add a fault that names their finding):\n" + "\n".join(survivors)


def test_every_finding_statement_is_a_branch() -> None:
    """The mutator finds every `yield Finding(` written in the check modules (none hides in a helper)."""
    counted = sum(len(mutation.branches(c)) for c in CHECKS)
    modules = {c.run.__module__ for c in CHECKS}
    import sys

    written = sum(
        open(sys.modules[m].__file__, encoding="utf-8").read().count("yield Finding(")  # noqa: SIM115
        for m in modules
    )
    assert counted == written


def test_a_fault_that_trips_two_branches_proves_neither(healthy_dir, tmp_path) -> None:
    from lobestack.deployment import load_deployment
    from tests.faults import apply_static

    group = next(g for g in all_checks() if g.id.startswith("ENV-")).group
    assert isinstance(group, Group)
    check = Check(id="ENV-WEAK", group=group, title="t", fix="f", impact="breaks", run=weak_check.weak)
    both = fault(SetEnv({"WEAK_A": "1", "WEAK_B": "1"}), expect="weak:")
    root = tmp_path / "d"
    import shutil

    shutil.copytree(healthy_dir, root)
    apply_static(both, root)
    tripped = load_deployment(root)
    verdicts = list(mutation.run(check, [("both", "weak:", tripped)]))
    assert [v.killed_by for v in verdicts] == [None, None]
    verdicts = list(mutation.run(check, [("a", "A is set", tripped), ("b", "B is set", tripped)]))
    assert [v.killed_by for v in verdicts] == ["a", "b"]


def test_live_branches_are_counted() -> None:
    """The live checks' branches, and which of them a fault's expected phrase can come from (their proofs run against
    a real stack in tests/stack/test_live_proofs.py; here the count only, reported in the terminal summary)."""
    report = mutation.live_report(all_checks("stack"))
    mutation.RESULTS.append(report)
    assert report.branches > 0


def test_live_mutation_notes_what_a_fault_kills(variants: Variants) -> None:
    """note_live (what tests/stack/test_live_proofs.py calls while a fault is injected) on a static stand-in: the
    fault of ENV-KEY-VAULTS that names 'not valid base64' kills that branch only."""
    check = next(c for c in CHECKS if c.id == "ENV-KEY-VAULTS")
    fault = next(f for f in check.faults if "base64" in (f.expect or "") and "not valid" in (f.expect or ""))
    saved = dict(mutation.LIVE_KILLED)
    try:
        mutation.LIVE_KILLED.clear()
        mutation.note_live(check, fault, variants.of(fault))
        assert {"ENV-KEY-VAULTS": {0}} == mutation.LIVE_KILLED
        unreadable = Check(
            id="ENV-LAMBDA", group=check.group, title="t", fix="f", impact="breaks", run=lambda d: iter(())
        )
        mutation.note_live(unreadable, fault, variants.of(fault))  # no source to mutate: an error noted, not raised
        assert "ENV-LAMBDA" not in mutation.LIVE_KILLED and mutation.LIVE_ERRORS
    finally:
        mutation.LIVE_KILLED.clear()
        mutation.LIVE_KILLED.update(saved)
        mutation.LIVE_ERRORS.clear()
