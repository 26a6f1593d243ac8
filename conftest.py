"""Root plugin of lobestack's suites: command-line options, target selection, markers and reports."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "lobestack.report.plugin",
    "fixtures.target",
    "fixtures.deployment",
    "fixtures.stack",
    "fixtures.checks",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lobestack")
    group.addoption(
        "--deployment",
        metavar="DIR",
        help="deployment directory to check (.env, docker-compose.yml, nginx/); default: a fresh one "
        "rendered for the test domains lobe.test / auth.test / s3.test",
    )
    group.addoption(
        "--target",
        choices=("files", "compose", "live"),
        default=None,
        help="where the stack under test comes from (static checks need files only)",
    )
    group.addoption(
        "--images",
        choices=("official", "reference"),
        default="reference",
        help="image set of the compose target: official (pulls upstream images) or reference "
        "(locally built stand-ins for LobeChat, Logto, MinIO)",
    )
    group.addoption("--keep-stack", action="store_true", help="leave the ephemeral stack running afterwards")
    group.addoption(
        "--report-dir", metavar="DIR", help="where junit.xml, report.html, summary.json go (default reports/<env>)"
    )
    group.addoption("--lobestack-env", metavar="NAME", help="the run's name in reports (default $LOBESTACK_ENV)")


def pytest_configure(config: pytest.Config) -> None:
    from lobestack.errors import BadInput
    from lobestack.settings import check_environment

    try:
        check_environment()
    except BadInput as exc:
        raise pytest.UsageError(str(exc)) from None
