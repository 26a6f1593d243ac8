"""The baseline of accepted findings: dates and matching as properties (hypothesis), malformed files as one line
naming file and line, and the semantics end to end on the static gate (accepted, expired, stale, malformed)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lobestack.checks.registry import WARN, Finding, SetEnv
from lobestack.checks.runner import Outcome
from lobestack.errors import BadInput
from lobestack.report.baseline import Baseline, Entry, parse_baseline
from lobestack.report.verdict import judge
from tests.conftest import run_gate

dates = st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 1, 1))
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(expires=dates, today=dates)
def test_an_entry_accepts_through_its_date_and_fails_from_the_next_day(expires, today) -> None:
    entry = Entry("ENV-KEY-VAULTS", "rotating", expires)
    verdict = judge("ENV-KEY-VAULTS", Outcome([Finding("bad")]), Baseline(Path("b.yml"), [entry]), today)
    assert verdict.outcome == ("accepted" if today <= expires else "failed")
    if today > expires:
        assert "expired on" in verdict.message and entry.where in verdict.message


@given(prefix=texts, piece=texts, suffix=texts)
def test_match_is_a_piece_of_the_finding_text(prefix, piece, suffix) -> None:
    text = prefix + piece + suffix
    assert Entry("X-Y", "r", datetime.date(2100, 1, 1), match=piece).matches("X-Y", text)
    assert Entry("X-Y", "r", datetime.date(2100, 1, 1)).matches("X-Y", text), "no match: every finding of the check"
    assert not Entry("X-Z", "r", datetime.date(2100, 1, 1), match=piece).matches("X-Y", text)


@given(text=texts, other=texts)
def test_a_finding_no_entry_matches_fails(text, other) -> None:
    entry = Entry("X-Y", "r", datetime.date(2100, 1, 1), match=other)
    verdict = judge("X-Y", Outcome([Finding(text)]), Baseline(Path("b.yml"), [entry]), datetime.date(2000, 1, 1))
    assert verdict.outcome == ("accepted" if other in text else "failed")


def test_one_unaccepted_finding_fails_the_check_and_warnings_alone_do_not() -> None:
    baseline = Baseline(Path("b.yml"), [Entry("X-Y", "r", datetime.date(2100, 1, 1), match="port 1")])
    today = datetime.date(2025, 1, 1)
    assert judge("X-Y", Outcome([Finding("port 1"), Finding("port 2")]), baseline, today).outcome == "failed"
    assert judge("X-Y", Outcome([Finding("soon", severity=WARN)]), None, today).outcome == "warned"
    assert judge("X-Y", Outcome([Finding("port 1"), Finding("soon", severity=WARN)]), baseline, today).outcome == (
        "accepted"
    )
    assert baseline.stale() == []


def test_an_entry_of_a_check_that_passed_is_stale_and_one_never_judged_is_not() -> None:
    ran, not_run = Entry("X-Y", "r", datetime.date(2100, 1, 1)), Entry("X-Z", "r", datetime.date(2100, 1, 1))
    baseline = Baseline(Path("b.yml"), [ran, not_run])
    judge("X-Y", Outcome([]), baseline, datetime.date(2025, 1, 1))
    assert baseline.stale() == [ran]


MALFORMED = {
    "syntax": ("accepted:\n  - id: ENV-KEY-VAULTS\n    reason: [unclosed\n    expires: 2030-01-01\n", 4),
    "not a list": ("accepted: ENV-KEY-VAULTS\n", 1),
    "unknown key": ("accepted:\n  - id: ENV-KEY-VAULTS\n    reason: r\n    expires: 2030-01-01\n    until: x\n", 5),
    "no reason": ("accepted:\n  - id: ENV-KEY-VAULTS\n    expires: 2030-01-01\n", 2),
    "bad date": ("accepted:\n  - id: ENV-KEY-VAULTS\n    reason: r\n    expires: next week\n", 4),
    "unknown check": ("accepted:\n  - id: NO-SUCH-CHECK\n    reason: r\n    expires: 2030-01-01\n", 2),
    "top-level typo": ("acepted: []\n", 1),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_baseline_names_file_and_line(case: str) -> None:
    text, line = MALFORMED[case]
    with pytest.raises(BadInput) as failure:
        parse_baseline(text, Path("baseline.yml"), known_ids=["ENV-KEY-VAULTS"])
    assert str(failure.value).startswith(f"baseline.yml:{line}: "), str(failure.value)


def _write(path: Path, entries: list[dict]) -> Path:
    lines = ["accepted:"]
    for e in entries:
        lines.append(f"  - id: {e['id']}")
        lines += [f"    {k}: {json.dumps(v) if k != 'expires' else v}" for k, v in e.items() if k != "id"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _summary(report_dir: Path) -> dict:
    return json.loads((report_dir / "summary.json").read_text())


def test_end_to_end_accepted_expired_stale_and_malformed(broken_dir: Path, tmp_path: Path) -> None:
    SetEnv({"KEY_VAULTS_SECRET": "c2hvcnQ="}).apply(broken_dir)  # ENV-KEY-VAULTS fails: 5 bytes, not 32
    later = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    earlier = (datetime.date.today() - datetime.timedelta(days=2)).isoformat()
    stale = {"id": "NGINX-HSTS", "reason": "was missing once", "expires": later}

    accepted = _write(
        tmp_path / "accepted.yml",
        [{"id": "ENV-KEY-VAULTS", "match": "5 bytes", "reason": "key rotation next week", "expires": later}, stale],
    )
    result = run_gate(broken_dir, tmp_path / "r1", "--baseline", str(accepted))
    assert result.returncode == 0, result.stdout[-3000:]
    summary = _summary(tmp_path / "r1")
    check = next(c for c in summary["checks"] if c["id"] == "ENV-KEY-VAULTS")
    assert check["outcome"] == "accepted" and "key rotation next week" in check["message"], check
    assert summary["counts"]["accepted"] == 1
    assert summary["baseline"]["stale"] == [f"NGINX-HSTS ({accepted}:6, expires {later}): was missing once"]
    assert "baseline entry stale: NGINX-HSTS" in result.stdout
    junit = (tmp_path / "r1" / "junit.xml").read_text()
    assert 'type="pytest.xfail"' in junit and "lobestack_baseline_stale" in junit

    expired = _write(tmp_path / "expired.yml", [{"id": "ENV-KEY-VAULTS", "reason": "key rotation", "expires": earlier}])
    result = run_gate(broken_dir, tmp_path / "r2", "--baseline", str(expired))
    assert result.returncode == 1
    check = next(c for c in _summary(tmp_path / "r2")["checks"] if c["id"] == "ENV-KEY-VAULTS")
    assert check["outcome"] == "failed"
    assert f"baseline entry {expired}:2 expired on {earlier}" in check["message"], check["message"]

    malformed = tmp_path / "malformed.yml"
    malformed.write_text("accepted:\n  - id: ENV-KEY-VAULTS\n    reason: r\n    expires: soon\n")
    result = run_gate(broken_dir, tmp_path / "r3", "--baseline", str(malformed))
    assert result.returncode == 4
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("ERROR:")]
    assert errors == [f"ERROR: {malformed}:4: expires: expected a date YYYY-MM-DD, got 'soon'"], errors
