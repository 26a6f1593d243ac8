"""A check's verdict for the report: its findings (failures and warnings) weighed against the baseline.

passed    no finding
warned    only warnings (reported — summary, junit property, Markdown — but not failing)
accepted  every failure (and warning) matched by a baseline entry that has not expired: xfail, with the reasons
failed    at least one failure no live entry accepts; an expired entry that matched is named
skipped   the check could not judge this target (its reason)
error     the check itself crashed"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from lobestack.checks.runner import Outcome
from lobestack.report.baseline import Baseline

FAILING = ("failed", "error")


@dataclass(frozen=True)
class Verdict:
    outcome: str
    message: str = ""


def judge(check_id: str, outcome: Outcome, baseline: Baseline | None, today: datetime.date) -> Verdict:
    if outcome.skipped:
        return Verdict("skipped", outcome.skipped)
    if outcome.error:
        return Verdict("error", outcome.error)
    if baseline is not None:
        baseline.mark_judged(check_id)
    failures: list[str] = []
    accepted: list[str] = []
    warnings: list[str] = []
    for finding in outcome.findings:
        text = f"[{check_id}] {finding}"
        entries = baseline.matching(check_id, str(finding)) if baseline is not None else []
        live = [e for e in entries if not e.expired(today)]
        if live:
            entry = live[0]
            accepted.append(f"{text}\n  accepted until {entry.expires.isoformat()} ({entry.where}): {entry.reason}")
        elif finding.warning:
            warnings.append(f"{text} (warning)")
        else:
            for entry in entries:
                text += (
                    f"\n  baseline entry {entry.where} expired on {entry.expires.isoformat()} and no longer accepts "
                    f"this ({entry.reason})"
                )
            failures.append(text)
    if failures:
        return Verdict("failed", "\n".join(failures + accepted + warnings))
    if accepted:
        return Verdict("accepted", "\n".join(accepted + warnings))
    if warnings:
        return Verdict("warned", "\n".join(warnings))
    return Verdict("passed")
