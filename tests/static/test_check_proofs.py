"""Every static check proves itself: it passes on the healthy deployment and fails, with its own ID, on each of its
faults — and where the fault names the finding it expects, with that finding. A check without a fault fails here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lobestack.checks import Check, all_checks, groups
from lobestack.deployment import load_deployment
from tests.faults import apply_static

CHECKS = all_checks()
PROOFS = [pytest.param(c, i, id=f"{c.id}#{i}") for c in CHECKS for i in range(len(c.faults))]


def test_registry_is_not_empty_and_covers_every_group() -> None:
    assert {g.prefix for g in groups("static")} == {"COMPOSE", "NGINX", "ENV", "XREF"}
    assert {c.group.prefix for c in CHECKS} == {g.prefix for g in groups("static")}
    assert len(CHECKS) >= 40


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_has_a_fault(check: Check) -> None:
    assert check.faults, f"{check.id} has no fault that proves it can fail"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_passes_on_healthy_deployment(check: Check, healthy_dir: Path) -> None:
    findings = check.findings(load_deployment(healthy_dir))
    assert not findings, f"{check.id} fails on the healthy deployment: {[str(f) for f in findings]}"


@pytest.mark.parametrize(("check", "index"), PROOFS)
def test_check_fails_on_its_fault(check: Check, index: int, healthy_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "deploy"
    shutil.copytree(healthy_dir, broken)
    fault = check.faults[index]
    apply_static(fault, broken)
    findings = [str(f) for f in check.findings(load_deployment(broken))]
    assert findings, f"{check.id} did not catch its fault: {fault}"
    if fault.expect:
        assert any(fault.expect in f for f in findings), f"{check.id}: no finding has {fault.expect!r}: {findings}"


def test_ids_are_unique_and_carry_their_group_prefix() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for c in CHECKS:
        assert c.id.startswith(c.group.prefix + "-"), c.id
        assert c.title and c.fix, c.id
