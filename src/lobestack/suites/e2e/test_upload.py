"""E2E-UPLOAD: a file uploaded as LobeChat 1.x does it, from the signed-in app (runs after E2E-SIGNIN and reuses
its session, or signs in itself)."""

import pytest

pytestmark = pytest.mark.e2e


def test_upload(run_flow) -> None:
    run_flow("E2E-UPLOAD")
