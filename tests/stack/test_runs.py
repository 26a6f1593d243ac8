"""Two runs on one host: the second waits for the stack's ports, bounded, saying which run holds them; orphaned
work directories (their .env and TLS keys) are removed once their run is gone, never while it lives."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lobestack.targets import runs


def test_a_second_run_waits_for_the_first_and_says_which(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "LOCK_FILE", tmp_path / "stack.lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time, lobestack.targets.runs as r, pathlib, sys\n"
            f"r.LOCK_FILE = pathlib.Path({str(tmp_path / 'stack.lock')!r})\n"
            "with r.stack_lock(print, 5):\n    print('held', flush=True)\n    time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        said: list[str] = []
        t0 = time.monotonic()
        with pytest.raises(runs.LockTimeout) as waited, runs.stack_lock(said.append, 1.5):
            pass
        assert 1.5 <= time.monotonic() - t0 < 5
        assert len(said) == 1 and f":{holder.pid}:" in said[0] and "release the stack's ports" in said[0]
        assert f":{holder.pid}:" in str(waited.value)
    finally:
        holder.kill()
        holder.wait()
    with runs.stack_lock(said.append, 1.5):  # free again once its holder is gone
        pass


def test_orphaned_work_directories_go_once_their_run_is_gone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(runs.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(runs, "ephemeral_projects", lambda: {})
    alive = runs.make_workdir()
    gone = Path(tmp_path / (runs.WORKDIR_PREFIX + "gone"))
    gone.mkdir(mode=0o700)
    (gone / "owner").write_text(f"{socket.gethostname()}:4194303:0\n")
    (gone / ".env").write_text("SECRET=x\n")
    assert oct(alive.stat().st_mode & 0o777) == "0o700"
    runs.remove_leftovers(progress=lambda line: None)
    assert alive.exists() and not gone.exists()


def test_the_last_holder_unlocks_even_when_it_did_not_take_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's fixture takes the lock, a stack re-enters it, the fixture ends first (a stack whose start failed is
    dropped without `down`, and its hold ends when it is collected): that stack's release must unlock, or the next
    acquisition in this process waits for itself."""
    monkeypatch.setattr(runs, "LOCK_FILE", tmp_path / "stack.lock")
    fixture = runs.stack_lock(lambda line: None, 1.5)
    fixture.__enter__()
    stack = runs.stack_lock(lambda line: None, 1.5)
    stack.__enter__()
    fixture.__exit__(None, None, None)
    stack.__exit__(None, None, None)
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "import fcntl, sys\n"
            f"handle = open({str(tmp_path / 'stack.lock')!r}, 'a+')\n"
            "fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)\n",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert other.returncode == 0, other.stderr
    with runs.stack_lock(lambda line: None, 1.5):  # and this process takes it again at once
        pass
