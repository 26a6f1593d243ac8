"""The live layer against a running stack (any target): routing, TLS, OIDC, LobeChat, S3, databases, exposure.
The checks run concurrently once (plugin/checks.py `live_results`); each test reports its own check."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("check", all_checks("stack"), ids=lambda c: c.id)
def test_check(check: Check, target, live_results, run_check) -> None:
    run_check(check, target, live_results[check.id])
