"""Running checks on a subject: one check's verdict (its findings, or why it was skipped, or the error it raised),
and all of a layer's checks at once — live checks are independent probes, so they run in threads and the layer
takes about as long as its slowest check."""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from lobestack.checks.registry import Check, CheckSkipped, Finding

LIVE_WORKERS = 16  # threads for a layer's checks; each check's own probes are bounded in time


@dataclass(frozen=True)
class Outcome:
    findings: list[Finding]
    skipped: str | None = None
    error: str | None = None


def evaluate(check: Check, subject: Any) -> Outcome:
    """One check's verdict on a subject: its findings, or why it was skipped, or the error it raised."""
    capabilities = getattr(subject, "capabilities", None)
    if capabilities is not None:
        missing = sorted(check.needs - capabilities)
        if missing:
            return Outcome([], skipped=f"[{check.id}] skipped: {subject.why_not(missing[0])}")
    try:
        # Each finding carries its impact from here on: its own where it names one, else its check's.
        return Outcome([f if f.impact else replace(f, impact=check.impact) for f in check.findings(subject)])
    except CheckSkipped as exc:
        return Outcome([], skipped=f"[{check.id}] skipped: {exc}")
    except Exception as exc:  # a probe crashed: an error of this check, not of the run
        return Outcome([], error=f"[{check.id}] the check itself failed: {exc!r}\n{traceback.format_exc(limit=4)}")


def evaluate_all(checks: list[Check], subject: Any) -> dict[str, Outcome]:
    with ThreadPoolExecutor(max_workers=max(1, min(LIVE_WORKERS, len(checks)))) as pool:
        futures = {c.id: pool.submit(evaluate, c, subject) for c in checks}
    return {cid: f.result() for cid, f in futures.items()}
