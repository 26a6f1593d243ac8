"""The live layer against a running stack: routing through Nginx over TLS to every service, and service health."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("check", all_checks("stack"), ids=lambda c: c.id)
def test_check(check: Check, stack, run_check) -> None:
    run_check(check, stack)
