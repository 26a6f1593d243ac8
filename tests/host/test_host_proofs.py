"""The host layer proven on this very machine (testinfra's `local` backend) with the reference stack up: every host
check passes on the healthy stack, fails with its own ID and the finding its fault names while the fault is in place
(a stopped container, one restarting in a loop, a port published on 0.0.0.0, a site that fails `nginx -t`, a vhost
pointing at a missing certificate, …), and passes again once the fault is undone — every file it touched back byte
for byte. Faults on recorded hosts are proven in test_recorded_proofs.py.

Nginx runs here as the stack's `nginx` container (host network, like a host-installed Nginx), so the HOST-NGINX
checks take their container path; their host path is proven on a recorded host. This machine's clock is synchronised
by nothing on it (a VM): HOST-TIME's live verdict must be exactly the recorded `time-no-sync-tool` one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra

from lobestack.checks import Check, all_checks
from lobestack.context import CheckContext
from lobestack.deployment import load_deployment
from lobestack.probes.host import HostFacts, is_loopback
from tests.conftest import REPO
from tests.faults import snapshot
from tests.host.harness import is_live, on_fault
from tests.host.recorded import recorded_host

CHECKS = all_checks("host")
LIVE = [pytest.param(c, i, id=f"{c.id}#{i}") for c in CHECKS for i, f in enumerate(c.faults) if is_live(f)]
NOT_HERE = {"HOST-TIME"}  # judged against the recording of this machine instead (see the module's doc)


def public_listeners() -> set[int]:
    host = testinfra.get_host("local://")
    return {
        int(s.rsplit(":", 1)[1])
        for s in host.socket.get_listening_sockets()
        if s.startswith("tcp://") and not is_loopback(s[len("tcp://") :].rsplit(":", 1)[0])
    }


@pytest.fixture(scope="module")
def host_stack(
    standin_set: None, stack_ports: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[object, CheckContext]]:
    """The reference stack, and the settings a user of this machine would pass: the ports this machine already
    listens on publicly before the stack starts (its own agent) are allowed, as with --allow-public-port."""
    from lobestack.targets.compose import EphemeralStack

    before = public_listeners() - {22, 80, 443, 8443}
    stack = EphemeralStack.create(tmp_path_factory.mktemp("hoststack"), "standin")
    try:
        stack.up(timeout_s=240)
        yield stack, CheckContext(restart_window_s=3.0, allow_public_ports=tuple(sorted(before)))
    finally:
        stack.down()


def local_facts(stack: object, context: CheckContext) -> HostFacts:
    return HostFacts(testinfra.get_host("local://"), load_deployment(stack.root), context)


def test_every_host_check_passes_on_the_healthy_stack(host_stack) -> None:
    from lobestack.plugin.checks import evaluate_all

    stack, context = host_stack
    outcomes = evaluate_all([c for c in CHECKS if c.id not in NOT_HERE], local_facts(stack, context))
    failed = {
        cid: o.error or o.skipped or [str(f) for f in o.findings]
        for cid, o in outcomes.items()
        if o.findings or o.error or o.skipped
    }
    assert not failed, failed


def test_clock_verdict_here_is_the_recorded_one(host_stack, healthy_dir: Path) -> None:
    stack, context = host_stack
    check = next(c for c in CHECKS if c.id == "HOST-TIME")
    here = local_facts(stack, context)
    if here.time_sync().source:
        pytest.skip(f"this machine can tell its clock's state ({here.time_sync().detail}): judged live elsewhere")
    recorded = HostFacts(recorded_host("time-no-sync-tool"), load_deployment(healthy_dir))
    assert [str(f) for f in check.findings(here)] == [str(f) for f in check.findings(recorded)]


@pytest.mark.parametrize(("check", "index"), LIVE)
def test_check_fails_on_its_fault(check: Check, index: int, host_stack, tmp_path: Path) -> None:
    stack, context = host_stack
    fault = check.faults[index]
    before = snapshot(stack.root)
    with on_fault(fault, root=stack.root, scratch=tmp_path, context=context, stack=stack) as subject:
        findings = [str(f) for f in check.findings(subject)]
    assert snapshot(stack.root) == before, f"{fault} did not restore the deployment byte for byte"
    assert findings, f"{check.id} did not catch: {fault}"
    assert any(fault.expect in f for f in findings), f"{check.id}: no finding has {fault.expect!r}: {findings}"
    after = [str(f) for f in check.findings(local_facts(stack, context))]
    assert not after, f"{check.id} still fails after the fault was undone: {after}"


def test_the_host_suite_runs_against_this_machine(host_stack, tmp_path: Path) -> None:
    """`tox -e host` as a user runs it (local backend): its first line names the host and backend; every check
    passes (HOST-TIME deselected: see the module's doc); summary.json names the host."""
    stack, context = host_stack
    args = [
        sys.executable,
        "-m",
        "pytest",
        "src/lobestack/suites/host",
        "-p",
        "no:cacheprovider",
        "-q",
        "--deployment",
        str(stack.root),
        "--restart-window",
        "2",
        "--report-dir",
        str(tmp_path),
        "--lobestack-env",
        "host",
        "--deselect",
        "src/lobestack/suites/host/test_host_checks.py::test_check[local-HOST-TIME]",
    ]
    args += [f"--allow-public-port={p}" for p in context.allow_public_ports]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=180)
    first = result.stdout.splitlines()[0]
    assert first == f"lobestack host: target=host host=local:// (backend local) deployment={stack.root}", first
    assert result.returncode == 0, result.stdout[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["host"] == "local:// (backend local)"
    assert summary["counts"]["passed"] == len(CHECKS) - 1


def test_the_host_layer_wants_a_deployment(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "src/lobestack/suites/host",
            "-p",
            "no:cacheprovider",
            "-q",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert "the host layer checks a server against its deployment: --deployment DIR" in result.stderr
