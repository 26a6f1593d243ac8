"""E2E-CONSOLE: https://<auth>/admin → Logto's console on ADMIN_ENDPOINT, its first run or its sign-in."""

import pytest

pytestmark = pytest.mark.e2e


def test_console(run_flow) -> None:
    run_flow("E2E-CONSOLE")
