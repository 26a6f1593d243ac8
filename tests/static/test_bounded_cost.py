"""Small input, bounded cost: every bound of src/lobestack/deployment/limits.py, breached, exits 4 with one line
naming the file and line, within 5 s and 300 MB: the gate process's own CPU time (user + system) and peak RSS.

CPU time, because it is what the input costs whatever else the machine runs (on an idle 2-core machine wall time
is the same, ~0.5-1.7 s; on one shared by several test runs it was 3x that); wall time is bounded too, generously,
so that a read that blocks (a FIFO) or a sleep cannot pass."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lobestack.errors import EXIT_BAD_INPUT
from tests.conftest import run_gate

COMPOSE = "docker-compose.yml"
MAX_CPU_SECONDS = 5.0
MAX_WALL_SECONDS = 30.0
MAX_PEAK_MB = 300.0


@dataclass(frozen=True)
class Breach:
    make: Callable[[Path], None]
    phrase: str
    names: str  # the file (relative to the deployment), named with a line unless `line` is False
    line: bool = True


def _append(file: str, text: str) -> Callable[[Path], None]:
    def make(deploy: Path) -> None:
        with (deploy / file).open("a", encoding="utf-8") as handle:
            handle.write(text)

    return make


def _doubling_env() -> str:
    lines = ["D0=" + "x" * 64]
    lines += [f"D{i}=${{D{i - 1}}}${{D{i - 1}}}" for i in range(1, 41)]  # 64 * 2**40 characters, unbounded
    return "\n" + "\n".join(lines) + "\n"


def _alias_bomb() -> str:
    lines = ["x-l0: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"x-l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]  # 9**10 nodes
    return "\n".join(lines) + "\n"


def _deep_through_anchors() -> str:
    # Each anchor nests 40 levels around the previous one: shallow text, 400 levels once expanded.
    lines = ["x-d0: &d0 " + "[" * 40 + "1" + "]" * 40]
    lines += [f"x-d{i}: &d{i} " + "[" * 40 + f"*d{i - 1}" + "]" * 40 for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def _many_nginx_files(deploy: Path) -> None:
    for i in range(70):
        shutil.copy(deploy / "nginx" / "s3.conf", deploy / "nginx" / f"extra{i:02d}.conf")


BREACHES = {
    "a 50 MB unterminated quote in .env": Breach(
        _append(".env", 'S3_BUCKET="' + "x" * 50 * 1024 * 1024 + "\n"), "larger than 256 KiB", ".env"
    ),
    ".env values doubling each other through ${...}": Breach(_append(".env", _doubling_env()), "expands past", ".env"),
    "${ nested 10,000 deep in .env": Breach(
        _append(".env", "\nNEST=" + "${A:-" * 10_000 + "x" + "}" * 10_000 + "\n"), "nest deeper than 16", ".env"
    ),
    "a YAML alias bomb": Breach(_append(COMPOSE, _alias_bomb()), "more than 50000 YAML nodes", COMPOSE),
    "a YAML alias to the node that holds it": Breach(
        _append(COMPOSE, "x-self: &self [1, *self]\n"), "refers to the node that contains it", COMPOSE
    ),
    "YAML nested 10,000 deep": Breach(
        _append(COMPOSE, "x-deep: " + "[" * 10_000 + "]" * 10_000 + "\n"), "deeper than 64 levels", COMPOSE
    ),
    "YAML mappings nested 10,000 deep": Breach(
        _append(COMPOSE, "x-deep: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n"), "deeper than 64 levels", COMPOSE
    ),
    "YAML nested deep through anchors": Breach(_append(COMPOSE, _deep_through_anchors()), "deeper than 64", COMPOSE),
    "a 120,000-item YAML list": Breach(
        _append(COMPOSE, "x-many: [" + "1," * 120_000 + "1]\n"), "more than 50000 YAML nodes", COMPOSE
    ),
    "a 300 KB compose file": Breach(_append(COMPOSE, ("# " + "x" * 98 + "\n") * 3000), "larger than 256 KiB", COMPOSE),
    "${ nested 10,000 deep in the compose file": Breach(
        _append(COMPOSE, 'x-nest: "' + "${A:-" * 10_000 + "x" + "}" * 10_000 + '"\n'),
        "nest deeper than 16",
        COMPOSE,
    ),
    "Nginx blocks nested 10,000 deep": Breach(
        _append("nginx/app.conf", "server {\n" + "location /x {\n" * 10_000 + "}\n" * 10_001),
        "blocks nest deeper than 64",
        "nginx/app.conf",
    ),
    "70 Nginx site configs": Breach(_many_nginx_files, "more than 64 *.conf", "nginx", line=False),
}


@pytest.mark.parametrize("case", BREACHES, ids=list(BREACHES))
def test_breach_exits_4_fast_and_small(case: str, broken_dir: Path, tmp_path: Path) -> None:
    breach = BREACHES[case]
    breach.make(broken_dir)
    result = run_gate(broken_dir, tmp_path / "reports")
    assert result.returncode == EXIT_BAD_INPUT, result.output[-3000:]
    assert len(result.error_lines) == 1 and "Traceback" not in result.output, result.output[-3000:]
    line = result.error_lines[0]
    assert breach.phrase in line, line
    where = re.escape(str(broken_dir / breach.names)) + (r":\d+: " if breach.line else ": ")
    assert re.search(where, line), line
    assert result.cpu_seconds < MAX_CPU_SECONDS, f"{case}: {result.cpu_seconds:.2f} s of CPU"
    assert result.seconds < MAX_WALL_SECONDS, f"{case}: {result.seconds:.2f} s of wall time"
    assert result.peak_rss_mb < MAX_PEAK_MB, f"{case}: {result.peak_rss_mb:.0f} MB"
