"""Root plugin of lobestack's suites: command-line options, target selection, markers and reports."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "lobestack.report.plugin",
    "fixtures.target",
    "fixtures.deployment",
    "fixtures.stack",
    "fixtures.checks",
    "fixtures.browser",
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
        "--resolve",
        action="append",
        metavar="NAME:ADDR",
        help="--target live: connect to NAME at ADDR, keeping SNI and certificate checks (like curl --resolve)",
    )
    group.addoption("--ca-file", metavar="FILE", help="--target live: a CA to trust besides the system store")
    group.addoption(
        "--allow-writes",
        action="store_true",
        help="--target live: let checks that write (the S3 round trip) run; they remove what they write",
    )
    group.addoption(
        "--min-cert-days",
        type=int,
        default=21,
        metavar="N",
        help="a certificate must stay valid at least N more days (default 21)",
    )
    group.addoption(
        "--report-dir", metavar="DIR", help="where junit.xml, report.html, summary.json go (default reports/<env>)"
    )
    group.addoption("--lobestack-env", metavar="NAME", help="the run's name in reports (default $LOBESTACK_ENV)")
