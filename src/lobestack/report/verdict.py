"""A check's verdict for the report: its findings (failures and warnings) weighed against the baseline and the
run's --fail-on level, and turned into the text every report shows (the one place where findings become text: what
servers and files put in them is escaped and cut here, report/escaping.py).

passed    no finding
warned    only warnings (reported — summary, junit property, Markdown — but not failing): findings of a `warn` kind,
          and findings whose impact is below --fail-on
accepted  every failure (and warning) matched by a baseline entry that has not expired: xfail, with the reasons
failed    at least one failure no live entry accepts; an expired entry that matched is named
skipped   the check could not judge this target (its reason)
error     the check itself crashed"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from lobestack.checks.registry import ADVICE, BREAKS, Finding, impact_rank
from lobestack.checks.runner import Outcome
from lobestack.report import escaping
from lobestack.report.baseline import Baseline

FAILING = ("failed", "error")


@dataclass(frozen=True)
class Reported:
    """One finding as the reports show it: escaped and cut, with its impact and what it does to the run."""

    where: str
    message: str
    impact: str
    status: str  # "fails", "warning" (a warn finding, or below --fail-on) or "accepted" (by the baseline)
    note: str = ""  # why a warning or accepted finding does not fail

    def to_dict(self) -> dict[str, str]:
        return {
            "where": self.where,
            "message": self.message,
            "impact": self.impact,
            "status": self.status,
            "note": self.note,
        }


@dataclass(frozen=True)
class Verdict:
    outcome: str
    message: str = ""
    findings: tuple[Reported, ...] = field(default=())


def _impact(finding: Finding) -> str:
    # The runner gives every finding its impact; one judged without (a test's own Outcome) fails at any level.
    return finding.impact or BREAKS


def reported(finding: Finding, status: str, note: str = "") -> Reported:
    """A finding made safe to show: control characters escaped, each line and the whole cut (report/escaping.py)."""
    return Reported(
        where=escaping.one_line(finding.where),
        message=escaping.shown(finding.message),
        impact=_impact(finding),
        status=status,
        note=note,
    )


def line(check_id: str, finding: Reported) -> str:
    """The finding's text in every report: `[ID] impact: where: what was seen`."""
    where = f"{finding.where}: " if finding.where else ""
    return f"[{check_id}] {finding.impact}: {where}{finding.message}"


def judge(
    check_id: str, outcome: Outcome, baseline: Baseline | None, today: datetime.date, fail_on: str = ADVICE
) -> Verdict:
    """`fail_on`: the least impact that fails the check; a finding below it is reported as a warning."""
    if outcome.skipped:
        return Verdict("skipped", escaping.shown(outcome.skipped))
    if outcome.error:
        return Verdict("error", escaping.shown(outcome.error))
    if baseline is not None:
        baseline.mark_judged(check_id)
    failures: list[str] = []
    accepted: list[str] = []
    warnings: list[str] = []
    shown: list[Reported] = []
    # Worst first: a check's breaking findings before its exposures and advice.
    ordered = sorted(outcome.findings, key=lambda f: -impact_rank(_impact(f)))
    for finding in ordered:
        entries = baseline.matching(check_id, str(finding)) if baseline is not None else []
        live = [e for e in entries if not e.expired(today)]
        below = impact_rank(_impact(finding)) < impact_rank(fail_on)
        if live:
            entry = live[0]
            reason = escaping.one_line(entry.reason)  # the baseline is a file from a cache: untrusted too
            note = f"accepted until {entry.expires.isoformat()} ({entry.where}): {reason}"
            shown.append(reported(finding, "accepted", note))
            accepted.append(f"{line(check_id, shown[-1])}\n  {note}")
        elif finding.warning or below:
            note = "warning" if finding.warning else f"warning: below --fail-on {fail_on}"
            shown.append(reported(finding, "warning", note))
            warnings.append(f"{line(check_id, shown[-1])} ({note})")
        else:
            shown.append(reported(finding, "fails"))
            text = line(check_id, shown[-1])
            for entry in entries:
                text += (
                    f"\n  baseline entry {entry.where} expired on {entry.expires.isoformat()} and no longer accepts "
                    f"this ({escaping.one_line(entry.reason)})"
                )
            failures.append(text)
    found = tuple(shown)
    if failures:
        return Verdict("failed", "\n".join(failures + accepted + warnings), found)
    if accepted:
        return Verdict("accepted", "\n".join(accepted + warnings), found)
    if warnings:
        return Verdict("warned", "\n".join(warnings), found)
    return Verdict("passed")
