"""summary.json: one record of a run that machines (CI, the nightly job) read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

OUTCOMES = ("passed", "failed", "skipped", "error")


@dataclass
class CheckResult:
    id: str
    title: str
    outcome: str
    message: str = ""
    fix: str = ""


@dataclass
class Summary:
    env: str
    target: str
    deployment: str
    started: str
    duration_s: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    host: str = ""  # the host and gpu layers: the hosts checked and their testinfra backends

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for c in self.checks:
            counts[c.outcome] += 1
        return counts

    def to_json(self) -> str:
        data = {
            "env": self.env,
            "target": self.target,
            "deployment": self.deployment,
            **({"host": self.host} if self.host else {}),
            "started": self.started,
            "duration_s": round(self.duration_s, 3),
            "counts": self.counts,
            "checks": [asdict(c) for c in self.checks],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
