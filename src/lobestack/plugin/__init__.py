"""lobestack's pytest plugin (the `pytest11` entry point `lobestack`): its command-line options, and, in a run of
lobestack's suites, the target registry, the fixtures (plugin/*.py) and the report plugin (report/plugin.py).

`pip install lobestack` registers it, as pytest-testinfra registers its `host` fixture: a user's own pytest run can
say `pytest --pyargs lobestack.suites.static --deployment DIR`. The options are always there; the rest joins a run
only when it is lobestack's (its suites named, a lobestack option given, or $LOBESTACK_ENV set), so an unrelated
pytest run in the same environment writes no reports and gets no fixtures from it."""

from __future__ import annotations

import os

import pytest

from lobestack.targets import NAMES

# The plugins of a lobestack run, registered by pytest_configure below.
RUN_PLUGINS = (
    "lobestack.report.plugin",
    "lobestack.plugin.target",
    "lobestack.plugin.deployment",
    "lobestack.plugin.stack",
    "lobestack.plugin.checks",
    "lobestack.plugin.host",
    "lobestack.plugin.browser",
)
# Options that only a lobestack run has (given on the command line, they make the run one).
_RUN_OPTIONS = ("deployment", "nginx_conf", "target", "report_dir", "lobestack_env", "baseline", "previous")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lobestack")
    group.addoption(
        "--deployment",
        metavar="DIR",
        help="deployment directory to check (.env, docker-compose.yml, nginx/); default: a fresh one "
        "rendered for the test domains lobe.test / auth.test / s3.test",
    )
    group.addoption(
        "--nginx-conf",
        metavar="FILE",
        help="read the deployment's Nginx from this nginx.conf and its includes, as `nginx -T` does (a server's "
        "/etc/nginx/nginx.conf, or a copy of that tree); default: the site configs in DIR/nginx/",
    )
    group.addoption(
        "--nginx-prefix",
        metavar="DIR",
        help="with --nginx-conf: Nginx's prefix, where relative include and ssl_certificate paths start (as "
        "`nginx -p DIR`); default: the directory of the nginx.conf",
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
        help="image set of the compose target: official (pulls upstream images), reference (real LobeChat and real "
        "Logto built locally from their published sources; a MinIO stand-in) or standin (the fast set: stand-ins "
        "for LobeChat, Logto and MinIO)",
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
        "--fail-on",
        metavar="LEVEL",
        default="advice",
        help="the least impact that fails the run: advice (default: every finding fails), exposure, or breaks; "
        "findings below it are reported as warnings",
    )
    group.addoption(
        "--report-dir", metavar="DIR", help="where junit.xml, report.html, summary.json go (default reports/<env>)"
    )
    group.addoption("--lobestack-env", metavar="NAME", help="the run's name in reports (default $LOBESTACK_ENV)")


def is_lobestack_run(config: pytest.Config) -> bool:
    """A run of lobestack's suites: they are named (as a path or with --pyargs), a lobestack option is given, or
    $LOBESTACK_ENV says so (every tox env of lobestack's own repository sets it)."""
    if os.environ.get("LOBESTACK_ENV"):
        return True
    if any(config.getoption(name, None) for name in _RUN_OPTIONS):
        return True
    named = [str(a).replace(os.sep, "/") for a in config.args]
    return any("lobestack/suites" in a or a.startswith("lobestack.suites") for a in named)


MARKERS = (
    "static: checks that read the deployment directory only",
    "stack: checks against a running stack",
    "e2e: browser flows against a running stack",
    "host: checks on the server itself (testinfra)",
    "gpu: checks of the server's NVIDIA GPU",
    "prod: checks of the public deployment",
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    if not is_lobestack_run(config):
        return
    # Each check's ID, title and fix are junit.xml properties of its test case, which only the xunit1 family
    # writes; a run that did not choose a family gets it (tryfirst: before junitxml reads it).
    if config.getini("junit_family") == "xunit2" and "junit_family" not in str(config.getoption("override_ini")):
        config._inicache["junit_family"] = "xunit1"
    from lobestack.errors import BadInput
    from lobestack.settings import check_environment
    from lobestack.targets import TARGETS, require_extra

    try:
        check_environment()
        target = config.getoption("target", None)
        if target in TARGETS:
            require_extra(target)
    except BadInput as exc:
        raise pytest.UsageError(str(exc)) from None
    for name in RUN_PLUGINS:
        config.pluginmanager.import_plugin(name)
