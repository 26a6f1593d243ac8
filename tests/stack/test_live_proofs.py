"""Every live check proves itself on a real (reference) stack: it passes on the healthy stack, fails with its own
ID and the finding its fault names while the fault is injected into the running stack, and passes again once the
fault is undone — with every file the fault touched back byte for byte. While a fault is in, each of the check's
finding branches is disabled in turn (tests/mutation.py) and the run reports which branches its faults kill."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks
from tests import mutation
from tests.faults import injected, snapshot
from tests.stack.conftest import leftovers

CHECKS = all_checks("stack")
PROOFS = [pytest.param(c, i, id=f"{c.id}#{i}") for c in CHECKS for i in range(len(c.faults))]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_has_faults_that_name_their_finding(check: Check) -> None:
    assert check.faults, f"{check.id} has no fault that proves it can fail"
    for fault in check.faults:
        assert fault.live, f"{check.id}: {fault} is not a change to a running stack"
        assert fault.expect, f"{check.id}: {fault} does not name the finding it expects"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_passes_on_healthy_stack(check: Check, healthy_stack) -> None:
    findings = check.findings(healthy_stack)
    assert not findings, f"{check.id}: {[str(f) for f in findings]}"


@pytest.mark.parametrize(("check", "index"), PROOFS)
def test_check_fails_on_its_fault(check: Check, index: int, healthy_stack) -> None:
    fault = check.faults[index]
    before = snapshot(healthy_stack.root)
    with injected(healthy_stack, fault):
        findings = [str(f) for f in check.findings(healthy_stack)]
        if any(fault.expect in f for f in findings):  # the proof holds: which of the check's branches did it need?
            mutation.note_live(check, fault, healthy_stack)
    assert snapshot(healthy_stack.root) == before, f"{fault} did not restore the deployment byte for byte"
    assert findings, f"{check.id} did not catch: {fault}"
    assert any(fault.expect in f for f in findings), f"{check.id}: no finding has {fault.expect!r}: {findings}"
    after = [str(f) for f in check.findings(healthy_stack)]
    assert not after, f"{check.id} still fails after the fault was undone: {after}"


def test_healthy_start_reported_every_service(healthy_stack) -> None:
    assert set(healthy_stack.durations) == set(healthy_stack.expected_services)
    assert {"lobe", "logto", "minio", "minio-init", "lobe-db", "logto-db", "nginx"} <= set(healthy_stack.durations)


def test_stand_ins_say_so(healthy_stack) -> None:
    page = healthy_stack.http.get(f"{healthy_stack.deployment.env.get('APP_URL')}/chat")
    assert "lobestack stand-in for LobeChat" in page.text
    console = healthy_stack.http.get(f"{healthy_stack.deployment.env.get('LOGTO_ADMIN_ENDPOINT')}/console", follow=3)
    assert "lobestack stand-in for Logto" in console.text


def test_teardown_leaves_no_container_network_or_volume(healthy_stack) -> None:
    """Runs last in this module: take the stack down the way the fixture does and look for anything left."""
    project = healthy_stack.project
    assert any(leftovers(project).values()), "the stack should be up before this test"
    healthy_stack.down()
    assert leftovers(project) == {"ps": [], "network": [], "volume": []}
