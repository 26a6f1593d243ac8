"""The browser layer's tests: each runs one flow (a check of the e2e group) in the run's browser session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lobestack.checks import all_checks
from lobestack.checks.runner import evaluate
from lobestack.plugin.browser import attach_artifacts
from lobestack.report.plugin import REPORT_DIR

FLOWS = {check.id: check for check in all_checks("e2e")}


def pytest_configure(config: pytest.Config) -> None:
    from lobestack.errors import BadInput
    from lobestack.extras import require

    try:
        require("browser")
    except BadInput as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture
def run_flow(e2e_session: Any, run_check: Callable[..., None], extras: list, request: pytest.FixtureRequest) -> Any:
    def run(check_id: str) -> None:
        __tracebackhide__ = True
        check = FLOWS[check_id]
        outcome = evaluate(check, e2e_session)
        result = e2e_session.results.get(check_id)
        if result is not None and result.artifacts is not None:
            attach_artifacts(extras, result.artifacts, request.config.stash[REPORT_DIR])
        run_check(check, e2e_session, outcome)

    return run
