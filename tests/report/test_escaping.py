"""Output that cannot be forged: what servers and files put in findings reaches no report raw. Control characters
and ANSI/OSC escapes are shown escaped, a CR or LF cannot start a line of its own, long text is cut saying so, and
in Markdown every character shows as itself (rendered with markdown-it, as CommonMark renderers do)."""

from __future__ import annotations

import datetime
import html
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lobestack.checks.registry import ADVICE, BREAKS, EXPOSURE, WARN, Finding
from lobestack.checks.runner import Outcome
from lobestack.report import escaping
from lobestack.report.escaping import CONTINUATION, LINE_LIMIT, LINES_LIMIT
from lobestack.report.plugin import _redact_report
from lobestack.report.verdict import judge

TODAY = datetime.date(2026, 1, 1)
# What attacks a terminal or a Markdown page, and ordinary text around it.
NASTY = list("<>&\"'`*_[]()!~|$@#\\:/-=+. \n\r\t\x1b\x07\x00\x7f\x9b\u202e\u2028\u2029aZ09é")
nasty = st.text(alphabet=st.sampled_from(NASTY), max_size=80)

ANSI_CLEAR = "\x1b[2J\x1b[H"
OSC_TITLE = "\x1b]0;pwned\x07"


def _unsafe(text: str) -> list[str]:
    return [c for c in text if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u202e\u2028\u2029")]


@given(nasty)
def test_shown_text_has_no_control_character_and_no_line_of_its_own(text: str) -> None:
    shown = escaping.shown(text)
    assert not _unsafe(shown)
    assert all(line.startswith(CONTINUATION) for line in shown.split("\n")[1:])


def test_ansi_and_osc_escapes_are_shown_escaped() -> None:
    shown = escaping.shown(f"{ANSI_CLEAR}PASSED{OSC_TITLE}")
    assert shown == "\\x1b[2J\\x1b[HPASSED\\x1b]0;pwned\\x07"


def test_a_crlf_cannot_forge_a_finding_line() -> None:
    outcome = Outcome([Finding("code NoSuchKey\r\n[S3-CORS] passed", impact=BREAKS)])
    verdict = judge("S3-ROUNDTRIP", outcome, None, TODAY)
    lines = verdict.message.split("\n")
    assert lines == ["[S3-ROUNDTRIP] breaks: code NoSuchKey\\r", "  | [S3-CORS] passed"]
    assert [line for line in lines if line.startswith("[")] == [lines[0]]


def test_long_text_is_cut_saying_how_much() -> None:
    code = "A" * 5_000_000  # a 5 MB S3 error code
    shown = escaping.shown(f"PUT answered 400 {code}")
    assert len(shown) < LINE_LIMIT + 50
    assert shown.endswith(f"… (cut, {5_000_000 + 17 - LINE_LIMIT} more characters)")
    many = escaping.shown("\n".join(f"line {n}" for n in range(1000)))
    assert many.count("\n") == LINES_LIMIT
    assert many.endswith(f"… (cut, {1000 - LINES_LIMIT} more lines)")


def test_the_cut_is_in_every_text_of_a_verdict() -> None:
    where = "https://s3.test/" + "x" * 1000
    verdict = judge("S3-ROUNDTRIP", Outcome([Finding("y" * 1000, where=where, impact=BREAKS)]), None, TODAY)
    assert all(len(line) < 2 * LINE_LIMIT + 100 for line in verdict.message.split("\n"))
    assert verdict.findings[0].where.endswith("(cut, 716 more characters)")
    assert verdict.findings[0].message.endswith("(cut, 700 more characters)")
    skipped = judge("S3-CORS", Outcome([], skipped=f"[S3-CORS] skipped: {OSC_TITLE}" + "z" * 900), None, TODAY)
    assert "\x1b" not in skipped.message and "(cut, " in skipped.message
    crashed = judge("S3-CORS", Outcome([], error=f"[S3-CORS] the check itself failed: {ANSI_CLEAR}"), None, TODAY)
    assert "\x1b" not in crashed.message


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def _rendered(markdown: str) -> _Elements:
    # html=True: raw HTML passes, as GitHub's step summary lets <details> and <br> through.
    elements = _Elements()
    elements.feed(MarkdownIt("commonmark", {"html": True}).render(f"- {markdown}"))
    return elements


@given(nasty)
def test_markdown_text_shows_as_itself_and_nothing_else(text: str) -> None:
    rendered = _rendered(escaping.markdown(text))
    assert rendered.tags in (["ul", "li"], ["ul", "li", "p"])
    assert rendered.text.strip() == escaping.one_line(text, limit=len(text) + 1).strip(" ")


@given(nasty)
def test_a_code_span_shows_as_itself(text: str) -> None:
    span = escaping.code(text)
    if not span:
        assert text == ""
        return
    rendered = _rendered(span)
    assert rendered.tags == ["ul", "li", "code"]
    assert rendered.text.strip("\n") == escaping.one_line(text, limit=len(text) + 1)


def test_a_servers_script_and_image_never_reach_the_page_raw() -> None:
    attack = "<script>alert(1)</script><img src=x onerror=alert(1)> [click](javascript:alert(1)) ![x](http://e/x.png)"
    rendered = _rendered(escaping.markdown(attack))
    assert rendered.tags == ["ul", "li"]
    assert rendered.text.strip() == attack
    assert "<script" not in escaping.markdown(attack) and "<img" not in escaping.markdown(attack)


def test_our_own_text_keeps_its_code_spans() -> None:
    fix = "add `init: true` to the service; return 301 <ADMIN_ENDPOINT>/console"
    rendered = MarkdownIt("commonmark", {"html": True}).render(escaping.markdown_own(fix))
    assert "add <code>init: true</code> to the service" in rendered and "&lt;ADMIN_ENDPOINT&gt;/console" in rendered


def test_fail_on_turns_findings_below_the_level_into_warnings() -> None:
    findings = [
        Finding("no init", impact=ADVICE),
        Finding("port 5432 public", impact=EXPOSURE),
        Finding("413 on uploads", impact=BREAKS),
    ]
    assert judge("X-Y", Outcome(findings), None, TODAY, ADVICE).outcome == "failed"
    on_breaks = judge("X-Y", Outcome(findings[:2]), None, TODAY, BREAKS)
    assert on_breaks.outcome == "warned"
    assert [f.status for f in on_breaks.findings] == ["warning", "warning"]
    assert "(warning: below --fail-on breaks)" in on_breaks.message
    on_exposure = judge("X-Y", Outcome(findings), None, TODAY, EXPOSURE)
    assert on_exposure.outcome == "failed"
    assert [(f.impact, f.status) for f in on_exposure.findings] == [
        (BREAKS, "fails"),
        (EXPOSURE, "fails"),
        (ADVICE, "warning"),
    ], "worst first"
    # A warn finding (a certificate renewed soon) stays a warning at any level, and breaks stays failing.
    assert judge("X-Y", Outcome([Finding("soon", severity=WARN, impact=BREAKS)]), None, TODAY).outcome == "warned"
    assert judge("X-Y", Outcome(findings[2:]), None, TODAY, BREAKS).outcome == "failed"


def test_the_finding_line_names_check_impact_and_place() -> None:
    verdict = judge("NGINX-BODY-SIZE", Outcome([Finding("1m", "nginx/app.conf:3", impact=BREAKS)]), None, TODAY)
    assert verdict.message == "[NGINX-BODY-SIZE] breaks: nginx/app.conf:3: 1m"
    assert re.fullmatch(r"\[[A-Z0-9-]+\] (breaks|exposure|advice): .*", verdict.message)
    assert html.escape(verdict.message) == verdict.message


@given(nasty)
def test_text_with_its_own_line_breaks_keeps_them_and_escapes_the_rest(text: str) -> None:
    shown = escaping.controls(text)
    assert not _unsafe(shown) and shown.count("\n") == text.count("\n")


def test_a_failure_outside_a_check_is_shown_escaped() -> None:
    """A stack that did not start (plugin/stack.py) or captured output may quote a server: escaped too."""
    report = pytest.TestReport(
        "suites/stack/x.py::test_check[STACK-VHOST-APP]",
        ("x", 0, "x"),
        {},
        "failed",
        f"[STACK-START] compose said {ANSI_CLEAR}\nsecond line",
        "setup",
        sections=[("Captured stdout setup", OSC_TITLE)],
    )
    _redact_report(SimpleNamespace(stash=pytest.Stash()), report)
    assert report.longrepr == "[STACK-START] compose said \\x1b[2J\\x1b[H\nsecond line"
    assert report.sections == [("Captured stdout setup", "\\x1b]0;pwned\\x07")]
