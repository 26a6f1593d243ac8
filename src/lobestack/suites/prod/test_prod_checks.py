"""The prod layer: the deployment at its public URLs, from outside (read-only). It runs with the live layer
(`tox -e prod` and `lobestack check prod` run the stack and prod suites together, all checks concurrently, once)."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks

pytestmark = pytest.mark.prod


@pytest.mark.parametrize("check", all_checks("prod"), ids=lambda c: c.id)
def test_check(check: Check, target, live_results, run_check) -> None:
    run_check(check, target, live_results[check.id])
