"""pytest plugin behind every tox env: report files, summary.json, secret redaction, the first report line."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lobestack.report.redaction import Redactor
from lobestack.report.summary import CheckResult, Summary

REDACTOR = pytest.StashKey[Redactor]()
SUMMARY = pytest.StashKey[Summary]()
REPORT_DIR = pytest.StashKey[Path]()
_RESULTS = pytest.StashKey[dict]()
_T0 = pytest.StashKey[float]()
# The run's config, for hooks that are not handed one (pytest_runtest_logreport, pytest-html's title).
_CONFIG: list[pytest.Config] = []


def redactor(config: pytest.Config) -> Redactor:
    return config.stash[REDACTOR]


def env_name(config: pytest.Config) -> str:
    return config.getoption("lobestack_env", None) or os.environ.get("LOBESTACK_ENV") or "adhoc"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    env = env_name(config)
    given = config.getoption("report_dir", None)
    if given is not None and not given.strip():
        raise pytest.UsageError("--report-dir is empty (an unset variable?): name the directory for the reports")
    report_dir = Path(given or Path(config.rootpath, "reports", env))
    if report_dir.exists() and not report_dir.is_dir():
        raise pytest.UsageError(f"--report-dir {report_dir}: exists and is not a directory")
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(f"--report-dir {report_dir}: cannot create it: {exc.strerror}") from None
    config.stash[REPORT_DIR] = report_dir
    config.stash[REDACTOR] = Redactor()
    config.stash[_RESULTS] = {}
    config.stash[_T0] = time.monotonic()
    _CONFIG[:] = [config]
    config.stash[SUMMARY] = Summary(
        env=env,
        target=config.getoption("target", None) or "files",
        deployment="",
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    if getattr(config.option, "xmlpath", None) is None and not hasattr(config, "workerinput"):
        config.option.xmlpath = str(report_dir / "junit.xml")
    if hasattr(config.option, "htmlpath") and not config.option.htmlpath:
        config.option.htmlpath = str(report_dir / "report.html")
        config.option.self_contained_html = True


def first_line(config: pytest.Config) -> str:
    """What ran, said first in every run (also with -q): env, target, image set, and stand-ins where used; for the
    host and gpu layers, the hosts checked and their testinfra backends."""
    summary = config.stash[SUMMARY]
    images = config.getoption("images", None)
    line = f"lobestack {summary.env}: target={summary.target}"
    if summary.host:
        return f"{line} host={summary.host} deployment={summary.deployment or '(none)'}"
    if summary.target == "compose" and images:
        line += f" images={images}"
        if images == "reference":
            line += " (STAND-INS for LobeChat, Logto and MinIO; PostgreSQL/pgvector and Nginx are real)"
    return line


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    _redact_report(item.config, report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    _redact_report(collector.config, report)
    return report


def _redact_report(config: pytest.Config, report: pytest.BaseReport) -> None:
    redact = config.stash.get(REDACTOR, None)
    if not redact:
        return
    if report.longrepr is not None:
        text = str(report.longrepr)
        clean = redact(text)
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, redact(content)) for title, content in report.sections]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Outcome per test: an error in setup/teardown is "error", whatever the call did.
    config = _CONFIG[0] if _CONFIG else None
    if config is None:
        return
    results = config.stash[_RESULTS]
    entry = results.setdefault(report.nodeid, {"outcome": "passed", "message": "", "props": {}})
    entry["props"].update(dict(report.user_properties))
    message = _first_lines(report)
    if report.when == "call":
        if report.failed:
            entry.update(outcome="failed", message=message)
        elif report.skipped:
            entry.update(outcome="skipped", message=message)
    elif report.failed:
        entry.update(outcome="error", message=message)
    elif report.skipped and report.when == "setup":
        entry.update(outcome="skipped", message=message)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG[:] = [session.config]
    line = first_line(session.config)
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(line, bold=True)
    # The same line heads junit.xml (a testsuite property) and report.html (its title).
    from _pytest.junitxml import xml_key

    xml = session.config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("lobestack", line)


def pytest_html_report_title(report) -> None:
    if _CONFIG:
        report.title = first_line(_CONFIG[0])


def _first_lines(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if report.longrepr is None:
        return ""
    text = (
        str(getattr(report.longrepr, "reprcrash", None) and report.longrepr.reprcrash.message)
        if hasattr(report.longrepr, "reprcrash")
        else str(report.longrepr)
    )
    return "\n".join(text.strip().splitlines()[:20])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    summary = config.stash[SUMMARY]
    summary.duration_s = time.monotonic() - config.stash[_T0]
    redact = config.stash[REDACTOR]
    for nodeid, entry in config.stash[_RESULTS].items():
        props = entry["props"]
        summary.checks.append(
            CheckResult(
                id=props.get("check_id", nodeid),
                title=props.get("check_title", nodeid.rsplit("::", 1)[-1]),
                outcome=entry["outcome"],
                message=redact(entry["message"]),
                fix=props.get("check_fix", ""),
            )
        )
    summary.write(config.stash[REPORT_DIR] / "summary.json")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Backstop: report writers run before this; whatever reached a file is masked there too.
    redact = config.stash.get(REDACTOR, None)
    report_dir = config.stash.get(REPORT_DIR, None)
    if redact and report_dir and report_dir.is_dir():
        for path in report_dir.rglob("*"):
            if path.is_file() and path.suffix in (".xml", ".html", ".json", ".log", ".txt"):
                redact.scrub_file(path)
    _CONFIG.clear()
