"""E2E-SIGNIN: LobeChat → Logto → LobeChat in the browser (also part of `tox -e smoke`)."""

import pytest

pytestmark = pytest.mark.e2e


def test_sign_in(run_flow) -> None:
    run_flow("E2E-SIGNIN")
