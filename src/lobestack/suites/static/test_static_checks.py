"""The static gate: every registered static check against the deployment directory (files only, seconds)."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks
from lobestack.deployment import Deployment

pytestmark = pytest.mark.static


@pytest.mark.parametrize("check", all_checks("static"), ids=lambda c: c.id)
def test_check(check: Check, deployment: Deployment, run_check) -> None:
    run_check(check, deployment)
