"""Run-to-run diff across three synthetic summaries: new, fixed, still failing with runs in a row (carried in
summary.json), the Markdown summary, and the same end to end through the gate with $GITHUB_STEP_SUMMARY."""

from __future__ import annotations

import json
from pathlib import Path

from lobestack.checks.registry import Edit
from lobestack.report import markdown
from lobestack.report.diff import compare, streaks
from lobestack.report.summary import CheckResult, Summary
from tests.conftest import run_gate


def _run(started: str, outcomes: dict[str, str], previous: dict | None) -> dict:
    """One run's summary.json as the plugin writes it, from this run's outcomes and the previous summary."""
    runs = streaks(previous, outcomes)
    summary = Summary("prod", "live", "deploy/", started)
    summary.checks = [
        CheckResult(cid, cid, outcome, f"{cid} message", "fix", runs[cid]) for cid, outcome in outcomes.items()
    ]
    if previous is not None:
        summary.diff = compare(previous, [vars(c) for c in summary.checks]).to_dict()
    return summary.to_dict()


def test_three_runs_in_a_row() -> None:
    one = _run("night-1", {"A": "failed", "B": "passed", "C": "passed", "D": "accepted"}, None)
    two = _run("night-2", {"A": "failed", "B": "error", "C": "passed", "D": "failed"}, one)
    three = _run("night-3", {"A": "passed", "B": "failed", "C": "failed", "D": "failed"}, two)

    assert [c["failing_runs"] for c in one["checks"]] == [1, 0, 0, 0]
    assert two["diff"] == {
        "previous": "night-1",
        "new": ["B", "D"],
        "fixed": [],
        "still_failing": [{"id": "A", "runs": 2}],
    }
    assert three["diff"] == {
        "previous": "night-2",
        "new": ["C"],
        "fixed": ["A"],
        "still_failing": [{"id": "B", "runs": 2}, {"id": "D", "runs": 2}],
    }
    assert {c["id"]: c["failing_runs"] for c in three["checks"]} == {"A": 0, "B": 2, "C": 1, "D": 2}

    summary = Summary("prod", "live", "deploy/", "night-3")
    summary.checks = [CheckResult(**c) for c in three["checks"]]
    summary.diff = three["diff"]
    text = markdown.render(summary, "lobestack prod: target=live")
    assert "### Since the previous run (night-2): 1 new, 1 fixed, 2 still failing" in text
    assert "- **still failing**: `B` (2 runs in a row)" in text and "- **fixed**: `A`" in text


def test_the_gate_reports_the_diff_first_in_its_summaries(broken_dir: Path, tmp_path: Path) -> None:
    result = run_gate(broken_dir, tmp_path / "night-1", "--previous", str(tmp_path / "none.json"))
    assert result.returncode == 0 and json.loads((tmp_path / "night-1" / "summary.json").read_text())["diff"] is None
    Edit("nginx/app.conf", "    proxy_buffering off;\n", "    proxy_buffering on;\n").apply(broken_dir)
    step_summary = tmp_path / "github-step-summary.md"
    import os

    os.environ["GITHUB_STEP_SUMMARY"] = str(step_summary)
    try:
        result = run_gate(broken_dir, tmp_path / "night-2", "--previous", str(tmp_path / "night-1" / "summary.json"))
    finally:
        del os.environ["GITHUB_STEP_SUMMARY"]
    assert result.returncode == 1
    assert "1 new, 0 fixed, 0 still failing" in result.stdout and "NEW     NGINX-APP-STREAMING" in result.stdout
    summary = json.loads((tmp_path / "night-2" / "summary.json").read_text())
    assert summary["diff"]["new"] == ["NGINX-APP-STREAMING"]
    shown = step_summary.read_text()
    assert shown == (tmp_path / "night-2" / "summary.md").read_text() + "\n"
    assert "- **new**: `NGINX-APP-STREAMING`" in shown


def test_a_malformed_previous_summary_exits_4(tmp_path: Path, healthy_dir: Path) -> None:
    bad = tmp_path / "summary.json"
    bad.write_text('{"checks": [}')
    result = run_gate(healthy_dir, tmp_path / "r", "--previous", str(bad))
    assert result.returncode == 4
    assert f"ERROR: {bad}:1: not a summary.json" in result.stdout + result.stderr
