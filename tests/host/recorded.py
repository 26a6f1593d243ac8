"""A testinfra host whose commands answer from a recording (tests/data/hosts/<name>.yaml): how the host and gpu
checks are proven on states and hardware CI cannot have. A recording lists answers — `match` (a substring, or a
list of substrings that must all occur in the command), `rc`, `stdout`, `stderr`, and the `source` of the output
(captured where, when; or constructed, and from what) — and may extend other recordings (its own answers win).
A command no answer matches is an error: a recording must hold every output its checks read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import testinfra.host
import yaml
from testinfra.backend.base import BaseBackend, CommandResult

HOSTS = Path(__file__).resolve().parents[1] / "data" / "hosts"


@dataclass(frozen=True)
class Recorded:
    match: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str
    source: str


def load(name: str) -> list[Recorded]:
    data = yaml.safe_load((HOSTS / f"{name}.yaml").read_text(encoding="utf-8"))
    answers = []
    for entry in data.get("answers") or []:
        match = entry["match"]
        answers.append(
            Recorded(
                tuple(match) if isinstance(match, list) else (match,),
                int(entry.get("rc", 0)),
                entry.get("stdout", ""),
                entry.get("stderr", ""),
                entry["source"],
            )
        )
    for parent in data.get("extends") or []:
        answers.extend(load(parent))
    return answers


class RecordedBackend(BaseBackend):
    NAME = "recorded"

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(f"recorded/{name}", **kwargs)
        self.name = name
        self.answers = load(name)
        self.asked: list[str] = []

    def get_pytest_id(self) -> str:
        return f"recorded://{self.name}"

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        line = self.get_command(command, *args)
        self.asked.append(line)
        for answer in self.answers:
            if all(part in line for part in answer.match):
                return self.result(answer.rc, self.encode(line), answer.stdout, answer.stderr)
        raise LookupError(f"recording {self.name} has no answer for: {line}")


def recorded_host(name: str) -> testinfra.host.Host:
    backend = RecordedBackend(name)
    host = testinfra.host.Host(backend)
    backend.set_host(host)
    return host


def names() -> list[str]:
    return sorted(p.stem for p in HOSTS.glob("*.yaml"))
