"""Run-to-run diff: this run against the previous run's summary.json (`--previous`): what is new, what is fixed,
what is still failing and for how many runs in a row (carried from run to run as `failing_runs`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lobestack.errors import BadInput
from lobestack.report.verdict import FAILING


@dataclass
class RunDiff:
    previous: str  # when the previous run started
    new: list[tuple[str, str]] = field(default_factory=list)  # (id, first line of the message)
    fixed: list[str] = field(default_factory=list)
    still: list[tuple[str, int]] = field(default_factory=list)  # (id, failing runs in a row, this one included)

    def lines(self) -> list[str]:
        out = [
            f"since the previous run ({self.previous}): {len(self.new)} new, {len(self.fixed)} fixed, "
            f"{len(self.still)} still failing"
        ]
        out += [f"  NEW     {cid}: {message}" for cid, message in self.new]
        out += [f"  FIXED   {cid}" for cid in self.fixed]
        out += [f"  STILL   {cid} (failing {runs} runs in a row)" for cid, runs in self.still]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous": self.previous,
            "new": [cid for cid, _ in self.new],
            "fixed": list(self.fixed),
            "still_failing": [{"id": cid, "runs": runs} for cid, runs in self.still],
        }


def load_previous(path: Path) -> dict[str, Any]:
    """A previous summary.json; a missing file is a first run (None is returned by the caller's check)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInput(f"not a summary.json: {exc.msg}", path, exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"not UTF-8 text (byte {exc.start})", path) from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise BadInput("not a summary.json: no `checks` list", path, 1)
    return data


def streaks(previous: dict[str, Any] | None, outcomes: dict[str, str]) -> dict[str, int]:
    """Failing runs in a row per check, this run included (0 when it does not fail now)."""
    before = {c.get("id"): c for c in (previous or {}).get("checks", []) if isinstance(c, dict)}
    out = {}
    for cid, outcome in outcomes.items():
        if outcome not in FAILING:
            out[cid] = 0
            continue
        old = before.get(cid) or {}
        was_failing = old.get("outcome") in FAILING
        out[cid] = (int(old.get("failing_runs") or 1) if was_failing else 0) + 1
    return out


def compare(previous: dict[str, Any], current: list[dict[str, Any]]) -> RunDiff:
    """`current`: this run's checks as summary.json lists them (id, outcome, message, failing_runs)."""
    before = {c.get("id"): c.get("outcome") for c in previous.get("checks", []) if isinstance(c, dict)}
    diff = RunDiff(previous=str(previous.get("started", "?")))
    for check in current:
        cid, now, was = check["id"], check["outcome"], before.get(check["id"])
        if now in FAILING and was in FAILING:
            diff.still.append((cid, int(check.get("failing_runs") or 2)))
        elif now in FAILING:
            first = (check.get("message") or "").strip().splitlines()
            diff.new.append((cid, first[0] if first else now))
        elif was in FAILING and now in ("passed", "warned"):
            diff.fixed.append(cid)
    return diff
