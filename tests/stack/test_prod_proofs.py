"""The prod layer proves itself on a kept reference stack seen as production: names pinned with --resolve to
127.0.0.1, the run's CA, and — for the ports seen from outside — Docker's bridge gateway as the public address (the
only non-loopback address of this host a test may knock on). Each prod check passes on the healthy stack and fails
with its own ID and the finding its fault names (a warning, where the fault says so); the prod run as users start
it passes, within its request budget, and a certificate due for renewal warns without failing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lobestack.checks import Check, all_checks
from lobestack.checks.faults import Certificate, Fault, Unresolvable
from lobestack.checks.runner import evaluate
from lobestack.context import CheckContext
from lobestack.probes.dns import Resolver
from lobestack.render.ephemeral import APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN
from lobestack.targets.compose import host_gateway_ip
from lobestack.targets.live import LiveTarget
from tests.conftest import REPO
from tests.faults import injected, snapshot

NAMES = (APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN)
CHECKS = all_checks("prod")
PROOFS = [pytest.param(c, i, id=f"{c.id}#{i}") for c in CHECKS for i in range(len(c.faults))]
# Where a healthy stack gives no verdict: the stand-ins expose no version (VERSION-PINNED says so and skips).
MAY_SKIP = {"VERSION-PINNED"}


def _no_network(name: str) -> tuple[str, ...]:
    raise OSError(f"{name}: no such name in the test's resolver (tests send no DNS queries)")


def outside(stack, unresolvable: tuple[str, ...] = ()) -> LiveTarget:
    """The stack as the prod layer sees production: a live target, names pinned, the run's CA, the gateway."""
    pins = {n: "127.0.0.1" for n in NAMES if n not in unresolvable}
    view = LiveTarget(
        stack.deployment,
        resolve=pins,
        ca_file=stack.ca_file,
        exposure=(host_gateway_ip(),),
        resolver=Resolver(pins, lookup=_no_network),
    )
    view.context = CheckContext(min_cert_days=14, warn_cert_days=30)
    return view


def test_every_prod_check_has_faults_that_name_their_finding() -> None:
    assert {c.group.prefix for c in CHECKS} == {"DNS", "OUTSIDE", "CERT", "CREDS", "VERSION"}
    for check in CHECKS:
        assert check.faults, f"{check.id} has no fault that proves it can fail"
        assert all(f.live and f.expect for f in check.faults), check.id


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_passes_on_healthy_stack(check: Check, healthy_stack) -> None:
    outcome = evaluate(check, outside(healthy_stack))
    assert not outcome.error, outcome.error
    assert not outcome.findings, [str(f) for f in outcome.findings]
    if outcome.skipped:
        assert check.id in MAY_SKIP, outcome.skipped


@pytest.mark.parametrize(("check", "index"), PROOFS)
def test_check_fails_on_its_fault(check: Check, index: int, healthy_stack) -> None:
    fault = check.faults[index]
    missing = tuple(s.name for s in fault.steps if isinstance(s, Unresolvable))
    on_stack = Fault(tuple(s for s in fault.steps if not isinstance(s, Unresolvable)), fault.expect)
    before = snapshot(healthy_stack.root)
    with injected(healthy_stack, on_stack):
        outcome = evaluate(check, outside(healthy_stack, missing))
    assert snapshot(healthy_stack.root) == before, f"{fault} did not restore the deployment byte for byte"
    assert not outcome.error and not outcome.skipped, outcome
    named = [f for f in outcome.findings if fault.expect in str(f)]
    assert named, f"{check.id}: no finding has {fault.expect!r}: {[str(f) for f in outcome.findings]}"
    if fault.warns:
        assert all(f.warning for f in outcome.findings), f"{check.id} failed where it must only warn"
    else:
        assert any(not f.warning for f in named), f"{check.id} only warned where it must fail"
    after = evaluate(check, outside(healthy_stack))
    assert not after.findings, f"{check.id} still fails after the fault was undone: {after.findings}"


def run_prod(stack, report_dir: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    """`tox -e prod` as a user runs it against this stack (the same pytest command, in a subprocess)."""
    args = [
        sys.executable,
        "-m",
        "pytest",
        "src/lobestack/suites/stack",
        "src/lobestack/suites/prod",
        "--target",
        "live",
        "--request-budget",
    ]
    args += ["150", "--deployment", str(stack.root), "--ca-file", str(stack.ca_file)]
    args += ["--exposure-address", host_gateway_ip(), *[a for n in NAMES for a in ("--resolve", f"{n}:127.0.0.1")]]
    args += ["-p", "no:cacheprovider", "--report-dir", str(report_dir), "--lobestack-env", "prod", *extra]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    return result, json.loads((report_dir / "summary.json").read_text())


def test_the_prod_run_passes_within_its_request_budget(healthy_stack, tmp_path: Path) -> None:
    result, summary = run_prod(healthy_stack, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    first = result.stdout.splitlines()[0]
    assert first.startswith("lobestack prod: target=live names: lobe.test=127.0.0.1 (pinned)"), first
    assert summary["addresses"] == [f"{n}=127.0.0.1 (pinned)" for n in NAMES]
    outcomes = {c["id"]: c["outcome"] for c in summary["checks"]}
    assert {outcomes[c.id] for c in CHECKS if c.id not in MAY_SKIP} == {"passed"}, outcomes
    assert outcomes["TLS-EXPIRY"] == outcomes["EXPOSE-INTERNAL-PORTS"] == "skipped", "superseded by the prod layer"
    requests = summary["requests"]
    assert 0 < requests["total"] < 150 and requests["budget"] == 150, requests
    assert requests["total"] == sum(requests["by_kind"].values())
    assert f"lobestack: {requests['total']} requests sent" in result.stdout
    assert (tmp_path / "summary.md").read_text().startswith("## lobestack prod: target=live")


def test_a_certificate_due_soon_warns_in_junit_and_summary_without_failing(healthy_stack, tmp_path: Path) -> None:
    due_soon = Fault((Certificate("lobe.test", "expires-in:20"),))
    with injected(healthy_stack, due_soon):
        result, summary = run_prod(healthy_stack, tmp_path / "reports", "-k", "CERT or TLS")
    assert result.returncode == 0, result.stdout[-4000:]
    cert = next(c for c in summary["checks"] if c["id"] == "CERT-EXPIRY")
    assert cert["outcome"] == "warned" and "expires in 20." in cert["message"], cert
    assert summary["counts"]["warned"] == 1 and summary["counts"]["failed"] == 0
    junit = (tmp_path / "reports" / "junit.xml").read_text()
    assert 'name="lobestack_warning"' in junit and "expires in 20." in junit
    assert "WARNED" in result.stdout and "--warn-cert-days 30" in result.stdout
