"""The static gate: every registered check against the deployment directory (files only, seconds)."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks
from lobestack.deployment import Deployment

pytestmark = pytest.mark.static


@pytest.mark.parametrize("check", all_checks(), ids=lambda c: c.id)
def test_check(check: Check, deployment: Deployment, record_property: pytest.RecordProperty) -> None:
    record_property("check_id", check.id)
    record_property("check_title", check.title)
    record_property("check_fix", check.fix)
    findings = check.findings(deployment)
    if findings:
        lines = [f"[{check.id}] {finding}" for finding in findings]
        pytest.fail("\n".join(lines) + f"\n  fix: {check.fix}", pytrace=False)
