"""Impact in every report, --fail-on, and one order, end to end through the static gate: a breaking, an exposing
and an advisory fault in one deployment, read back from the terminal, junit.xml, report.html, summary.json and
summary.md."""

from __future__ import annotations

import datetime
import html
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lobestack.checks.registry import all_checks
from tests.conftest import run_gate
from tests.faults import apply_static

# One fault per impact; each fails its own check only.
BREAKING = ("ENV-KEY-VAULTS", "decodes to 16 bytes")
EXPOSING = ("NGINX-HSTS", "max-age below 63072000")
ADVISING = ("COMPOSE-INIT", "no `init: true`")


def _break(root: Path, check_id: str, phrase: str) -> None:
    check = next(c for c in all_checks() if c.id == check_id)
    apply_static(next(f for f in check.faults if phrase in (f.expect or "")), root)


@pytest.fixture
def three_faults(broken_dir: Path) -> Path:
    for check_id, phrase in (BREAKING, EXPOSING, ADVISING):
        _break(broken_dir, check_id, phrase)
    return broken_dir


def _summary(report_dir: Path) -> dict:
    return json.loads((report_dir / "summary.json").read_text())


def test_every_report_gives_each_findings_impact_in_one_order(three_faults: Path, tmp_path: Path) -> None:
    result = run_gate(three_faults, tmp_path)
    assert result.returncode == 1, result.output[-3000:]
    order = ["ENV-KEY-VAULTS", "NGINX-HSTS", "COMPOSE-INIT"]  # breaks, exposure, advice

    # Terminal: each finding's line names check, impact and place; failures worst first.
    assert re.search(r"^\[ENV-KEY-VAULTS\] breaks: \.env:\d+: KEY_VAULTS_SECRET decodes", result.stdout, re.M)
    assert re.search(r"^\[NGINX-HSTS\] exposure: nginx/s3\.conf:\d+: ", result.stdout, re.M)
    assert re.search(r"^\[COMPOSE-INIT\] advice: docker-compose\.yml:\d+: service lobe-db", result.stdout, re.M)
    failed_lines = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    assert [re.search(r"\[([A-Z0-9-]+)\]", line).group(1) for line in failed_lines] == order

    # junit.xml: the check's impact as a property; testcases in the same order.
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    impacts = {}
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        impacts[props["check_id"]] = props["check_impact"]
    assert [impacts[cid] for cid in order] == ["breaks", "exposure", "advice"]
    assert list(impacts).index("ENV-KEY-VAULTS") < list(impacts).index("NGINX-HSTS")
    assert set(impacts.values()) == {"breaks", "exposure", "advice"}, "every check has one"

    # report.html: an Impact column, rows in the run's order.
    page = (tmp_path / "report.html").read_text()
    # The rows are a JSON blob of HTML cells, HTML-escaped in the page.
    cells = html.unescape(page).replace('\\"', '"')
    assert "<th>Impact</th>" in page and '<td class="col-impact">advice</td>' in cells
    positions = [page.index(f"test_check[{cid}]") for cid in order]
    assert positions == sorted(positions)

    # summary.json: per check and per finding.
    checks = {c["id"]: c for c in _summary(tmp_path)["checks"]}
    assert [checks[cid]["impact"] for cid in order] == ["breaks", "exposure", "advice"]
    assert checks["COMPOSE-INIT"]["findings"] == [
        {
            "where": checks["COMPOSE-INIT"]["findings"][0]["where"],
            "message": "service lobe-db has no `init: true`",
            "impact": "advice",
            "status": "fails",
            "note": "",
        }
    ]
    assert list(checks).index("ENV-KEY-VAULTS") < list(checks).index("COMPOSE-INIT")

    # summary.md: each finding on its own line with its impact; the fix once per check.
    text = (tmp_path / "summary.md").read_text()
    assert re.search(
        r"^- \*\*advice\*\* `docker-compose\.yml:\d+` service lobe-db has no \\`init: true\\`$", text, re.M
    )
    assert text.count("**Fix:**") == 3
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert [re.search(r"`([A-Z0-9-]+)`", h).group(1) for h in headings] == order


def test_fail_on_breaks_reports_exposure_and_advice_as_warnings(
    three_faults: Path, healthy_dir: Path, tmp_path: Path
) -> None:
    result = run_gate(three_faults, tmp_path / "breaks", "--fail-on", "breaks")
    assert result.returncode == 1
    summary = _summary(tmp_path / "breaks")
    outcomes = {c["id"]: c["outcome"] for c in summary["checks"]}
    assert [outcomes[cid] for cid in ("ENV-KEY-VAULTS", "NGINX-HSTS", "COMPOSE-INIT")] == ["failed", "warned", "warned"]
    assert summary["fail_on"] == "breaks"
    assert "WARNED   [NGINX-HSTS] exposure: nginx/s3.conf:" in result.stdout
    assert "(warning: below --fail-on breaks)" in result.stdout

    # Without the breaking fault: --fail-on breaks passes, --fail-on exposure fails on the exposure only.
    no_breakage = tmp_path / "deploy-2"
    shutil.copytree(healthy_dir, no_breakage)
    _break(no_breakage, *EXPOSING)
    _break(no_breakage, *ADVISING)
    result = run_gate(no_breakage, tmp_path / "pass", "--fail-on", "breaks")
    assert result.returncode == 0, result.output[-3000:]
    assert _summary(tmp_path / "pass")["counts"]["warned"] == 2
    result = run_gate(no_breakage, tmp_path / "exposure", "--fail-on", "exposure")
    assert result.returncode == 1
    failed = [c["id"] for c in _summary(tmp_path / "exposure")["checks"] if c["outcome"] == "failed"]
    assert failed == ["NGINX-HSTS"]
    result = run_gate(no_breakage, tmp_path / "advice")  # the default: every finding fails, as before
    assert result.returncode == 1
    assert _summary(tmp_path / "advice")["counts"]["failed"] == 2


@pytest.mark.parametrize("value", ["severe", "", "BREAKS"])
def test_a_bad_fail_on_level_is_one_line_exit_4(healthy_dir: Path, tmp_path: Path, value: str) -> None:
    result = run_gate(healthy_dir, tmp_path, "--fail-on", value)
    assert result.returncode == 4
    said = "is empty (an unset variable?)" if not value else f"{value!r}: not a level"
    assert result.error_lines == [f"ERROR: --fail-on {said}; use one of advice, exposure, breaks"]
    assert "Traceback" not in result.output


def test_a_baselines_hostile_reason_is_shown_escaped(broken_dir: Path, tmp_path: Path) -> None:
    _break(broken_dir, *BREAKING)
    later = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    baseline = tmp_path / "baseline.yml"
    reason = "\\e[2J\\e]0;pwned\\a<script>alert(1)</script>\\r\\n[ENV-KEY-VAULTS] passed"
    baseline.write_text(f'accepted:\n  - id: ENV-KEY-VAULTS\n    reason: "{reason}"\n    expires: {later}\n')
    result = run_gate(broken_dir, tmp_path / "r", "--baseline", str(baseline))
    assert result.returncode == 0, result.output[-3000:]
    for name in ("summary.md", "summary.json", "junit.xml"):
        shown = (tmp_path / "r" / name).read_text()
        assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown, name
    assert "\x1b" not in result.output
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("[ENV-KEY-VAULTS] passed")]
    md = (tmp_path / "r" / "summary.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md
