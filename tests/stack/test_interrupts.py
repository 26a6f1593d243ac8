"""An interrupted run (Ctrl-C, or SIGTERM from CI or tox) tears its stack down, removes its work directory (it
holds the .env and TLS keys) and exits 2, pytest's 'interrupted'."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.stack.conftest import leftovers


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_during_start_tears_the_stack_down(standin_set: None, signum: int, tmp_path: Path) -> None:
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "src/lobestack/suites/stack",
            "--target",
            "compose",
            "-p",
            "no:cacheprovider",
            "-q",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    project = None
    deadline = time.monotonic() + 120
    assert run.stdout is not None
    for line in run.stdout:
        if "to release the stack's ports" in line:
            deadline = time.monotonic() + 900  # another run holds the host's stack ports: the run waits, so do we
        match = re.search(r"stack (lobestack-ephemeral-\w+): starting", line)
        if match:
            project = match.group(1)
        if project and re.search(r"^\s+\S+\s+(starting|created|running)", line):
            break  # containers exist: interrupt in the middle of the start
        assert time.monotonic() < deadline, "the stack never started"
    assert project, "no start line"
    workdirs = [p for p in Path(tempfile.gettempdir()).glob("lobestack-stack-*") if _owned_by(p, run.pid)]
    run.send_signal(signum)
    rest, _ = run.communicate(timeout=90)
    assert run.returncode == 2, rest[-2000:]
    assert leftovers(project) == {"ps": [], "network": [], "volume": []}
    assert workdirs and not any(p.exists() for p in workdirs), "the work directory with .env and keys was left"


def _owned_by(workdir: Path, pid: int) -> bool:
    try:
        return (workdir / "owner").read_text().split(":")[1] == str(pid)
    except (OSError, IndexError):
        return False
