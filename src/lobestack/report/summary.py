"""summary.json: one record of a run that machines (CI, the nightly job) read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OUTCOMES = ("passed", "failed", "skipped", "error", "warned", "accepted")


@dataclass
class CheckResult:
    id: str
    title: str
    outcome: str
    message: str = ""
    fix: str = ""
    failing_runs: int = 0  # failing runs in a row, this one included (carried through --previous)
    impact: str = ""  # the check's (breaks, exposure, advice); "" for a test that is not a check
    # Each finding as reported (report/verdict.py Reported): where, message, impact, status (fails, warning,
    # accepted) and note (why a warning or accepted one does not fail); escaped and cut like every report's text.
    findings: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Summary:
    env: str
    target: str
    deployment: str
    started: str
    duration_s: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    host: str = ""  # the host and gpu layers: the hosts checked and their testinfra backends
    # Everything the run sent to the deployment: {"total", "budget", "by_kind": {http, tls, tcp, dns}}.
    requests: dict[str, Any] = field(default_factory=dict)
    # Where the public names pointed (live targets): ["name=address,…", …].
    addresses: list[str] = field(default_factory=list)
    baseline: dict[str, Any] | None = None
    diff: dict[str, Any] | None = None
    fail_on: str = "advice"  # the least impact that fails the run (--fail-on); findings below it are warnings

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for c in self.checks:
            counts[c.outcome] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "target": self.target,
            "deployment": self.deployment,
            **({"host": self.host} if self.host else {}),
            "started": self.started,
            "duration_s": round(self.duration_s, 3),
            "fail_on": self.fail_on,
            "counts": self.counts,
            "requests": self.requests,
            "addresses": self.addresses,
            "baseline": self.baseline,
            "diff": self.diff,
            "checks": [asdict(c) for c in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
