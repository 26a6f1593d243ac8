"""Every static check proves itself, the way gixy and KICS prove their rules: it passes on the healthy deployment and
on each of its must-pass variants, and fails, with its own ID and the finding the fault names, on each of its
faults. A check without a fault, a fault without an expected finding, or a check without a pass variant fails here.
(tests/static/test_mutation.py then shows that every finding a check can raise is reached by one of its faults.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.checks import Check, all_checks, groups
from lobestack.checks.runner import evaluate
from lobestack.deployment import load_deployment
from tests.static.proofs import Variants

CHECKS = all_checks()
PROOFS = [pytest.param(c, i, id=f"{c.id}#{i}") for c in CHECKS for i in range(len(c.faults))]
PASSES = [pytest.param(c, i, id=f"{c.id}+{i}") for c in CHECKS for i in range(len(c.passes))]


def test_registry_is_not_empty_and_covers_every_group() -> None:
    assert {g.prefix for g in groups("static")} == {"COMPOSE", "NGINX", "ENV", "XREF"}
    assert {c.group.prefix for c in CHECKS} == {g.prefix for g in groups("static")}
    assert len(CHECKS) >= 40


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_has_faults_that_name_their_finding(check: Check) -> None:
    assert check.faults, f"{check.id} has no fault that proves it can fail"
    for fault in check.faults:
        assert fault.expect, f"{check.id}: {fault} does not name the finding it expects"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_has_a_pass_variant(check: Check) -> None:
    assert check.passes, f"{check.id} has no healthy variant it must accept"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_passes_on_healthy_deployment(check: Check, healthy_dir: Path) -> None:
    findings = check.findings(load_deployment(healthy_dir))
    assert not findings, f"{check.id} fails on the healthy deployment: {[str(f) for f in findings]}"


@pytest.mark.parametrize(("check", "index"), PASSES)
def test_check_passes_on_its_variant(check: Check, index: int, variants: Variants) -> None:
    """A variant the check does not apply to passes too: skipped, with the reason (the console on its own name
    needs no /admin redirect)."""
    variant = check.passes[index]
    outcome = evaluate(check, variants.of(variant))
    assert outcome.error is None, outcome.error
    findings = [str(f) for f in outcome.findings]
    assert not findings, f"{check.id} fails on a healthy variant ({variant}): {findings}"


@pytest.mark.parametrize(("check", "index"), PROOFS)
def test_check_fails_on_its_fault(check: Check, index: int, variants: Variants) -> None:
    fault = check.faults[index]
    findings = [str(f) for f in check.findings(variants.of(fault))]
    assert findings, f"{check.id} did not catch its fault: {fault}"
    assert any(fault.expect in f for f in findings), f"{check.id}: no finding has {fault.expect!r}: {findings}"


def test_ids_are_unique_and_carry_their_group_prefix() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for c in CHECKS:
        assert c.id.startswith(c.group.prefix + "-"), c.id
        assert c.title and c.fix, c.id
