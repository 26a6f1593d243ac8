"""pytest plugin behind every tox env: report files, summary.json, secret redaction, the first report line; and for
nightly runs the baseline of accepted findings (--baseline), the diff with the previous run (--previous), the
Markdown summary (summary.md, and $GITHUB_STEP_SUMMARY when set) and the request budget (--request-budget).

Every report gives each finding's impact (breaks, exposure, advice): the terminal and junit.xml in the finding's
text and a `check_impact` property, report.html in a column, summary.json per check and per finding, summary.md per
finding. `--fail-on LEVEL` turns findings below LEVEL into warnings. The checks run (and so every report lists
them) worst first within each layer: by impact, then ID. The runner has no notion of a finding's cause yet, so that
order stands in for "cause first, derived findings after"."""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lobestack.checks.registry import ADVICE, IMPACTS, Check, impact_rank
from lobestack.errors import BadInput
from lobestack.probes.budget import REQUESTS
from lobestack.redaction import Redactor
from lobestack.report import escaping, markdown
from lobestack.report.baseline import Baseline, load_baseline, today
from lobestack.report.diff import compare, load_previous, streaks
from lobestack.report.summary import CheckResult, Summary
from lobestack.report.verdict import Reported
from lobestack.targets import FILES, TARGETS, target_class
from lobestack.targets.images import SET_DESCRIPTIONS, official_images, official_origin

REDACTOR = pytest.StashKey[Redactor]()
SUMMARY = pytest.StashKey[Summary]()
REPORT_DIR = pytest.StashKey[Path]()
_RESULTS = pytest.StashKey[dict]()
_T0 = pytest.StashKey[float]()
BASELINE = pytest.StashKey[Baseline | None]()
PREVIOUS = pytest.StashKey[dict | None]()
FAIL_ON = pytest.StashKey[str]()
_FINDINGS = pytest.StashKey[dict]()
WARNING_PROPERTY = "lobestack_warning"
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
    # by default under where the run was started (pytest's rootdir may be the --deployment directory)
    report_dir = Path(given or Path(config.invocation_params.dir, "reports", env))
    if report_dir.exists() and not report_dir.is_dir():
        raise pytest.UsageError(f"--report-dir {report_dir}: exists and is not a directory")
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(f"--report-dir {report_dir}: cannot create it: {exc.strerror}") from None
    level = config.getoption("fail_on", None)
    level = ADVICE if level is None else level
    if level not in IMPACTS:
        said = "is empty (an unset variable?)" if not level.strip() else f"{level!r}: not a level"
        raise pytest.UsageError(f"--fail-on {said}; use one of {', '.join(IMPACTS)}")
    config.stash[FAIL_ON] = level
    config.stash[_FINDINGS] = {}
    config.stash[REPORT_DIR] = report_dir
    config.stash[REDACTOR] = Redactor()
    config.stash[_RESULTS] = {}
    config.stash[_T0] = time.monotonic()
    _CONFIG[:] = [config]
    REQUESTS.reset()
    try:
        config.stash[BASELINE] = _baseline(config)
        config.stash[PREVIOUS] = _previous(config)
    except BadInput as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SUMMARY] = Summary(
        env=env,
        target=config.getoption("target", None) or FILES,
        deployment="",
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        fail_on=level,
    )
    if getattr(config.option, "xmlpath", None) is None and not hasattr(config, "workerinput"):
        config.option.xmlpath = str(report_dir / "junit.xml")
    if hasattr(config.option, "htmlpath") and not config.option.htmlpath:
        config.option.htmlpath = str(report_dir / "report.html")
        config.option.self_contained_html = True


def _baseline(config: pytest.Config) -> Baseline | None:
    given = config.getoption("baseline", None)
    if not given:
        return None
    from lobestack.checks.registry import all_checks

    return load_baseline(Path(given), known_ids=[c.id for c in all_checks(layer=None)])


def _previous(config: pytest.Config) -> dict | None:
    """The previous run's summary.json; a file that does not exist yet is a first run (no diff)."""
    given = config.getoption("previous", None)
    if not given or not Path(given).exists():
        return None
    return load_previous(Path(given))


def baseline_of(config: pytest.Config) -> Baseline | None:
    return config.stash.get(BASELINE, None)


def fail_on(config: pytest.Config) -> str:
    """The least impact that fails the run (--fail-on, checked at start)."""
    return config.stash.get(FAIL_ON, ADVICE)


def record_findings(config: pytest.Config, nodeid: str, findings: Iterable[Reported]) -> None:
    """A check's findings as reported, for summary.json and summary.md."""
    config.stash[_FINDINGS][nodeid] = list(findings)


def _check_of(item: pytest.Item) -> Check | None:
    callspec = getattr(item, "callspec", None)
    check = callspec.params.get("check") if callspec else None
    return check if isinstance(check, Check) else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each module's checks worst first (breaks, exposure, advice; then by ID), so that the terminal, junit.xml,
    report.html and the summaries list them in one order. Only the checks of one test function with the same other
    parameters (one host of the host layer) are reordered: everything else keeps its place (the browser flows, which
    build on each other; the order pytest chose for fixtures of a wider scope)."""

    def others(item: pytest.Item) -> tuple:
        return tuple(sorted((k, v) for k, v in item.callspec.indices.items() if k != "check"))

    def same_test(a: pytest.Item, b: pytest.Item) -> bool:
        return a.parent is b.parent and a.originalname == b.originalname and others(a) == others(b)

    start = 0
    while start < len(items):
        if _check_of(items[start]) is None:
            start += 1
            continue
        end = start
        while end < len(items) and _check_of(items[end]) is not None and same_test(items[end], items[start]):
            end += 1
        items[start:end] = sorted(items[start:end], key=lambda i: (-impact_rank(_check_of(i).impact), _check_of(i).id))
        start = end


def first_line(config: pytest.Config) -> str:
    """What ran, said first in every run (also with -q): env, target, image set, and stand-ins where used; for the
    host and gpu layers, the hosts checked and their testinfra backends."""
    summary = config.stash[SUMMARY]
    images = config.getoption("images", None)
    line = f"lobestack {summary.env}: target={summary.target}"
    if summary.host:
        return f"{line} host={summary.host} deployment={summary.deployment or '(none)'}"
    if images and summary.target in TARGETS and target_class(summary.target).ephemeral:
        described = SET_DESCRIPTIONS.get(images, "?")
        if images == "official":
            given = config.getoption("deployment", None)
            try:
                refs = official_images(Path(given) if given else None)
            except BadInput:
                refs = []  # the deployment's own error is reported where it is loaded
            described += f": {official_origin(refs)}"
        line += f" images={images} ({described})"
    if summary.addresses:
        line += " names: " + " ".join(summary.addresses)
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
    # Secrets masked, and control characters escaped: a finding's text is escaped where it is made
    # (report/verdict.py), but a failure outside a check (a stack that did not start) or captured output may quote
    # a server too.
    redact = config.stash.get(REDACTOR, None) or (lambda text: text)
    if report.longrepr is not None:
        text = str(report.longrepr)
        clean = escaping.controls(redact(text))
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, escaping.controls(redact(content))) for title, content in report.sections]


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
        elif hasattr(report, "wasxfail"):  # accepted by the baseline (xfail with the entries' reasons)
            entry.update(outcome="accepted", message=str(report.wasxfail))
        elif report.passed and entry["props"].get(WARNING_PROPERTY):
            entry.update(outcome="warned", message=str(entry["props"][WARNING_PROPERTY]))
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


def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(2, "<th>Impact</th>")


def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    # pytest-html also lists collection reports (a module skipped while collected), which have no user_properties
    props = dict(getattr(report, "user_properties", ()))
    impact = str(props.get("check_impact", ""))
    if impact and props.get(WARNING_PROPERTY):
        impact += " (warned)"
    cells.insert(2, f'<td class="col-impact">{html.escape(impact)}</td>')


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


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # tryfirst: junit.xml and report.html are written by their own sessionfinish, after this one adds to them.
    config = session.config
    summary = config.stash[SUMMARY]
    summary.duration_s = time.monotonic() - config.stash[_T0]
    redact = config.stash[REDACTOR]
    findings = config.stash[_FINDINGS]
    for nodeid, entry in config.stash[_RESULTS].items():
        props = entry["props"]
        summary.checks.append(
            CheckResult(
                id=props.get("check_id", nodeid),
                title=props.get("check_title", nodeid.rsplit("::", 1)[-1]),
                outcome=entry["outcome"],
                message=redact(entry["message"]),
                fix=props.get("check_fix", ""),
                impact=props.get("check_impact", ""),
                findings=[{key: redact(value) for key, value in f.to_dict().items()} for f in findings.get(nodeid, ())],
            )
        )
    previous = config.stash.get(PREVIOUS, None)
    runs = streaks(previous, {c.id: c.outcome for c in summary.checks})
    for check in summary.checks:
        check.failing_runs = runs.get(check.id, 0)
    if previous is not None:
        summary.diff = compare(previous, [vars(c) for c in summary.checks]).to_dict()
    baseline = config.stash.get(BASELINE, None)
    if baseline is not None:
        summary.baseline = {
            "file": str(baseline.path),
            "entries": len(baseline.entries),
            "accepted": sorted(c.id for c in summary.checks if c.outcome == "accepted"),
            "expired": [e.describe() for e in baseline.expired(today())],
            "stale": [e.describe() for e in baseline.stale()],
        }
    budget = config.getoption("request_budget", None)
    summary.requests = {"total": REQUESTS.total, "budget": budget, "by_kind": REQUESTS.by_kind()}
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("lobestack_requests", str(REQUESTS.total))
        for kind in ("expired", "stale"):
            for described in (summary.baseline or {}).get(kind, []):
                xml.add_global_property(f"lobestack_baseline_{kind}", described)
        if summary.diff:
            xml.add_global_property("lobestack_diff", json.dumps(summary.diff))
    summary.write(config.stash[REPORT_DIR] / "summary.json")
    text = redact(markdown.render(summary, first_line(config)))
    (config.stash[REPORT_DIR] / "summary.md").write_text(text, encoding="utf-8")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if budget is not None and REQUESTS.total > budget and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """The nightly's own lines: the diff with the previous run, warnings, accepted findings, the baseline's expired
    and stale entries, and what the run sent."""
    summary = config.stash[SUMMARY]
    write = terminalreporter.write_line
    if summary.diff:
        from lobestack.report.diff import RunDiff

        terminalreporter.section("lobestack: changes since the previous run")
        diff = summary.diff
        messages = {c.id: (c.message.strip().splitlines() or [""])[0] for c in summary.checks}
        for line in RunDiff(
            diff["previous"],
            [(cid, messages.get(cid, "")) for cid in diff["new"]],
            diff["fixed"],
            [(s["id"], s["runs"]) for s in diff["still_failing"]],
        ).lines():
            write(line)
    noted = [c for c in summary.checks if c.outcome in ("warned", "accepted")]
    if noted:
        terminalreporter.section("lobestack: warnings and accepted findings")
        for c in noted:
            write(f"{c.outcome.upper():8} {c.message}")
    for kind in ("expired", "stale"):
        for described in (summary.baseline or {}).get(kind, []):
            write(f"baseline entry {kind}: {described}")
    requests = summary.requests or {}
    if requests.get("total"):
        budget = requests.get("budget")
        kinds = ", ".join(f"{k} {n}" for k, n in requests["by_kind"].items() if n)
        line = f"lobestack: {requests['total']} requests sent ({kinds})"
        if budget is not None:
            line += f", budget {budget}" + (" — OVER BUDGET" if requests["total"] > budget else "")
        write(line, red=budget is not None and requests["total"] > budget)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Backstop: report writers run before this; whatever reached a file is masked there too.
    redact = config.stash.get(REDACTOR, None)
    report_dir = config.stash.get(REPORT_DIR, None)
    if redact and report_dir and report_dir.is_dir():
        for path in report_dir.rglob("*"):
            if path.is_file() and path.suffix in (".xml", ".html", ".json", ".log", ".txt", ".md", ".zip"):
                redact.scrub_file(path)
    _CONFIG.clear()
