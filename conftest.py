"""Root plugin of lobestack's suites: command-line options, target selection, markers and reports."""

from __future__ import annotations

import pytest

from lobestack.targets import NAMES

pytest_plugins = [
    "lobestack.report.plugin",
    "fixtures.target",
    "fixtures.deployment",
    "fixtures.stack",
    "fixtures.checks",
    "fixtures.host",
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
        choices=NAMES,
        default=None,
        help="where the stack under test comes from (static checks need files only)",
    )
    group.addoption(
        "--images",
        choices=("official", "reference", "standin"),
        default="reference",
        help="image set of the compose target: official (pulls upstream images), reference (real LobeChat built "
        "locally from its npm package; stand-ins for Logto and MinIO) or standin (the fast set: stand-ins for "
        "LobeChat, Logto and MinIO)",
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
        default=None,
        metavar="N",
        help="a certificate must stay valid at least N more days (default 21; 14 in a run of the prod layer)",
    )
    group.addoption(
        "--warn-cert-days",
        type=int,
        default=30,
        metavar="N",
        help="prod layer: a certificate valid fewer than N more days is a warning, reported but not failing (30)",
    )
    group.addoption(
        "--exposure-address",
        action="append",
        metavar="ADDR",
        help="--target live: knock on ADDR for internal ports instead of the public names' addresses (the server's "
        "own address behind a proxy or CDN); repeatable",
    )
    group.addoption(
        "--baseline",
        metavar="FILE",
        help="YAML of accepted findings (id, match, reason, expires): a matching finding is xfail until its date",
    )
    group.addoption(
        "--previous",
        metavar="FILE",
        help="the previous run's summary.json: report what is new, fixed and still failing (a missing file: first run)",
    )
    group.addoption(
        "--request-budget",
        type=int,
        default=None,
        metavar="N",
        help="fail the run when it sent more than N requests to the deployment (tox -e prod: 150)",
    )
    host = parser.getgroup("lobestack host and gpu layers", "the server itself, through testinfra's --hosts")
    host.addoption(
        "--restart-window",
        type=float,
        default=5.0,
        metavar="S",
        help="sample the containers' restart counts twice, S seconds apart (default 5)",
    )
    host.addoption("--min-free-gib", type=float, default=5.0, metavar="N", help="free space needed (default 5 GiB)")
    host.addoption(
        "--min-free-percent", type=float, default=10.0, metavar="P", help="free space needed (default 10 %%)"
    )
    host.addoption(
        "--allow-public-port",
        type=int,
        action="append",
        default=[],
        metavar="PORT",
        help="a port that may listen on public addresses besides 22, 80, 443 and the console port (repeatable)",
    )
    host.addoption(
        "--probe-timeout", type=float, default=20.0, metavar="S", help="limit of each command on the host (default 20)"
    )
    host.addoption(
        "--ollama-model",
        metavar="NAME",
        help="gpu layer: warm this (pulled) model up before reading Ollama's /api/ps; without it the check judges "
        "what is loaded",
    )
    host.addoption(
        "--ollama-url", metavar="URL", help="gpu layer: Ollama as the host reaches it (default: its published port)"
    )
    host.addoption(
        "--gpu-image",
        metavar="IMAGE",
        help="gpu layer: image of the throwaway --gpus container, never pulled (default: the ollama service's image)",
    )
    host.addoption(
        "--warmup-timeout", type=float, default=180.0, metavar="S", help="gpu layer: limit of the warm-up (180 s)"
    )
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
