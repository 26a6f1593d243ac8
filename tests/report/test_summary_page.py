"""summary.md as people read it, on GitHub's step summary or GitLab's job page: rendered to HTML (markdown-it, raw
HTML allowed as GitHub allows <details> and <br>) and shown in a real browser (Debian's Chromium), screenshots kept
under reports/summary-page/ as the test's artifacts.

Two runs: a failing run of the static gate (a breaking, an exposing and an advisory fault, the advice on every
service so that its list folds, and a baseline entry from a cache whose reason carries markup and escapes); and a
live run's summary built through the same verdicts, whose findings quote a hostile server: a `<script>`, an
`<img onerror>`, ANSI and OSC escapes, a CRLF that tries to forge a finding line, and a 5 MB S3 error code."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from lobestack.browser.chromium import CI_ARGS, DEFAULT_CHROMIUM
from lobestack.checks.registry import BREAKS, EXPOSURE, Finding, all_checks
from lobestack.checks.runner import Outcome
from lobestack.report import markdown
from lobestack.report.summary import CheckResult, Summary
from lobestack.report.verdict import judge
from tests.conftest import REPO, run_gate
from tests.faults import apply_static

ARTIFACTS = REPO / "reports" / "summary-page"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\x1b[2J\x1b[HPASSED\x1b]0;pwned\x07"
# GitHub's page, roughly: what matters is that it reads as a person sees it.
STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px; line-height: 1.5;
       max-width: 980px; margin: 24px auto; padding: 0 16px; color: #1f2328; overflow-wrap: break-word; }
code { background: #eff1f3; padding: .2em .4em; border-radius: 6px; font-size: 85%; }
pre { background: #f6f8fa; padding: 12px; overflow: auto; }
h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; } h4 { margin: 20px 0 8px; }
summary { cursor: pointer; color: #0969da; }
"""


def _page(markdown_text: str, title: str) -> str:
    body = MarkdownIt("commonmark", {"html": True}).render(markdown_text)
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style></head>" + (
        f"<body>{body}</body></html>"
    )


def _failing_run(healthy_dir: Path, tmp_path: Path) -> str:
    deploy = tmp_path / "deploy"
    shutil.copytree(healthy_dir, deploy)
    checks = {c.id: c for c in all_checks()}
    for check_id, phrase in (
        ("ENV-KEY-VAULTS", "16 bytes"),
        ("NGINX-HSTS", "max-age below"),
        ("NGINX-BODY-SIZE", "1m"),
    ):
        apply_static(next(f for f in checks[check_id].faults if phrase in (f.expect or "")), deploy)
    compose = deploy / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("    init: true\n", ""))  # advice, on every service
    later = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    baseline = tmp_path / "baseline.yml"
    reason = json.dumps(f"raised with the vendor {HOSTILE}\r\n[NGINX-BODY-SIZE] passed")
    baseline.write_text(f"accepted:\n  - id: NGINX-BODY-SIZE\n    reason: {reason}\n    expires: {later}\n")
    result = run_gate(deploy, tmp_path / "run", "--baseline", str(baseline), "--fail-on", "exposure")
    assert result.returncode == 1, result.output[-3000:]
    return (tmp_path / "run" / "summary.md").read_text()


def _hostile_run() -> str:
    """A live run's summary whose findings quote a hostile server, through the verdicts the plugin uses."""
    checks = {c.id: c for c in all_checks(None)}
    summary = Summary("prod", "live", "deploy/", "2026-01-01T00:00:00+00:00", duration_s=9.4)
    outcomes = {
        "S3-ROUNDTRIP": [
            Finding(
                f"presigned PUT https://s3.example.com/lobe/probe: PUT answered 400 {'A' * 5_000_000}", impact=BREAKS
            ),
        ],
        "S3-PUBLIC-READ": [
            Finding(f"anonymous listing answered 200: {HOSTILE}\r\n[S3-PUBLIC-READ] passed", impact=EXPOSURE),
        ],
        "OIDC-DISCOVERY": [
            Finding(f"discovery's issuer {HOSTILE!r} is not https://auth.example.com/oidc", impact=BREAKS),
        ],
    }
    for check_id, findings in outcomes.items():
        verdict = judge(check_id, Outcome(findings), None, datetime.date(2026, 1, 1))
        check = checks[check_id]
        summary.checks.append(
            CheckResult(
                check_id,
                check.title,
                verdict.outcome,
                verdict.message,
                check.fix,
                impact=check.impact,
                findings=[f.to_dict() for f in verdict.findings],
            )
        )
    return markdown.render(summary, "lobestack prod: target=live names: lobe.example.com=203.0.113.7")


@pytest.fixture(scope="module")
def browser(playwright):
    if not Path(DEFAULT_CHROMIUM).exists():
        pytest.skip("no Chromium (scripts/setup-host installs Debian's chromium)")
    launched = playwright.chromium.launch(executable_path=DEFAULT_CHROMIUM, args=list(CI_ARGS))
    yield launched
    launched.close()


def _shot(browser, markdown_text: str, name: str) -> dict:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page_html = _page(markdown_text, name)
    (ARTIFACTS / f"{name}.md").write_text(markdown_text, encoding="utf-8")
    (ARTIFACTS / f"{name}.html").write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.set_content(page_html)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        seen = {
            "scripts": page.locator("script").count(),
            "images": page.locator("img").count(),
            "details": page.locator("details").count(),
            "text": page.inner_text("body"),
            "dialogs": dialogs,
            "items": page.locator("li").all_inner_texts(),
        }
    finally:
        page.close()
    return seen


def test_a_failing_runs_summary_reads_well_in_a_browser(browser, healthy_dir: Path, tmp_path: Path) -> None:
    seen = _shot(browser, _failing_run(healthy_dir, tmp_path), "failing-run")
    assert seen["scripts"] == 0 and seen["images"] == 0 and seen["dialogs"] == []
    text = seen["text"]
    # Worst first: the breaking check, the exposure, then the advice reported as a warning, folded after five.
    assert text.index("ENV-KEY-VAULTS") < text.index("NGINX-HSTS") < text.index("COMPOSE-INIT")
    assert seen["details"] == 1 and "2 more findings" in text
    assert text.count("Fix:") == 3, "the fix once per failed or warned check"
    # The baseline's reason shows as text, its escapes escaped, its CRLF on no line of its own.
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>\\x1b[2J" in text
    assert not any(item.startswith("[NGINX-BODY-SIZE] passed") for item in seen["items"])


def test_a_hostile_servers_text_shows_as_text(browser) -> None:
    seen = _shot(browser, _hostile_run(), "hostile-server")
    assert seen["scripts"] == 0 and seen["images"] == 0 and seen["dialogs"] == []
    text = seen["text"]
    assert "<script>alert(1)</script><img src=x onerror=alert(2)>\\x1b[2J\\x1b[HPASSED\\x1b]0;pwned\\x07" in text
    assert "… (cut, " in text and "A" * 400 not in text
    # The CRLF: escaped, and what followed it stays inside the same finding.
    items = seen["items"]
    assert not any(item.startswith("[S3-PUBLIC-READ] passed") for item in items)
    forged = next(item for item in items if "anonymous listing" in item)
    assert "\\r" in forged and "[S3-PUBLIC-READ] passed" in forged
