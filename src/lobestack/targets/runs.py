"""Runs of the ephemeral stack on one host never harm each other.

- Every container, network and volume of a run carries its owner (`org.lobestack.owner`: host, pid and the pid's
  start time, so a reused pid is not mistaken for the owner) and whether it is kept (`org.lobestack.keep`);
  leftovers are removed only when their owner is gone and they were not kept on purpose.
- One stack at a time per host holds the stack's ports (443, 8443, the published 127.0.0.1 ports): a second run
  waits for the first (bounded, one line naming it).
- A run's work directory (its .env and TLS keys) is private (0700), removed at the end of the run, or by the next
  run once its owner is gone."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

PROJECT_PREFIX = "lobestack-ephemeral-"
WORKDIR_PREFIX = "lobestack-stack-"
OWNER_LABEL, KEEP_LABEL, WORKDIR_LABEL = "org.lobestack.owner", "org.lobestack.keep", "org.lobestack.workdir"
LOCK_FILE = Path(tempfile.gettempdir()) / "lobestack-stack.lock"


class LockTimeout(Exception):
    """Another run held the host's stack ports for longer than we may wait."""


# --- owners: which run a stack belongs to, and whether that run is still alive ---------------------------------------


def _start_ticks(pid: int) -> str | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19]  # starttime, in clock ticks since boot


def current_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def owner_alive(owner: str) -> bool:
    """Is the run that wrote `owner` still running? A run on another host is assumed alive (never ours to judge)."""
    host, _, rest = owner.partition(":")
    pid, _, ticks = rest.partition(":")
    if host != socket.gethostname():
        return True
    return pid.isdigit() and _start_ticks(int(pid)) == ticks


def _docker(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout_s)


def ephemeral_projects() -> dict[str, dict[str, str]]:
    """Every ephemeral project Docker still has (containers, networks or volumes): project -> its lobestack labels."""
    projects: dict[str, dict[str, str]] = {}
    fmt = "{{json .Labels}}"
    for kind in (["ps", "-a"], ["network", "ls"], ["volume", "ls"]):
        result = _docker(*kind, "--filter", "label=com.docker.compose.project", "--format", fmt)
        for line in result.stdout.splitlines():
            labels = _labels(line)
            project = labels.get("com.docker.compose.project", "")
            if project.startswith(PROJECT_PREFIX):
                known = projects.setdefault(project, {})
                for key in (OWNER_LABEL, KEEP_LABEL, WORKDIR_LABEL):
                    if labels.get(key):
                        known[key] = labels[key]
    return projects


def _labels(line: str) -> dict[str, str]:
    """`docker ps` prints labels as "a=b,c=d"; `network/volume ls` the same; JSON-quoted by the format."""
    try:
        text = json.loads(line)
    except json.JSONDecodeError:
        return {}
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    return dict(part.split("=", 1) for part in str(text).split(",") if "=" in part)


def remove_project(project: str, workdir: str | None = None) -> None:
    _docker("compose", "-p", project, "down", "--volumes", "--remove-orphans", "--timeout", "5", timeout_s=180)
    if workdir and Path(workdir).name.startswith(WORKDIR_PREFIX):
        shutil.rmtree(workdir, ignore_errors=True)


def remove_leftovers(progress: Callable[[str], None] = print) -> list[str]:
    """Remove what interrupted runs left: stacks whose owner is gone and that were not kept on purpose, and orphaned
    work directories (they hold .env files and TLS keys). Never touches a live run's stack or a kept one."""
    removed = []
    for project, labels in sorted(ephemeral_projects().items()):
        owner = labels.get(OWNER_LABEL, "")
        if labels.get(KEEP_LABEL) == "1" or (owner and owner_alive(owner)):
            continue
        progress(f"  removing leftover stack {project} (its run {owner or '(unknown)'} is gone)")
        remove_project(project, labels.get(WORKDIR_LABEL))
        removed.append(project)
    kept_dirs = {labels.get(WORKDIR_LABEL) for labels in ephemeral_projects().values()}
    for path in Path(tempfile.gettempdir()).glob(WORKDIR_PREFIX + "*"):
        owner_file = path / "owner"
        owner = owner_file.read_text().strip() if owner_file.exists() else ""
        if str(path) not in kept_dirs and owner and not owner_alive(owner):
            shutil.rmtree(path, ignore_errors=True)
    return removed


def kept_stacks() -> list[str]:
    return sorted(p for p, labels in ephemeral_projects().items() if labels.get(KEEP_LABEL) == "1")


def make_workdir() -> Path:
    """A private (0700) work directory for one run, owned by this process: removed at the end of the run, or by the
    next run once this one is gone."""
    path = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    (path / "owner").write_text(current_owner() + "\n")
    return path


# This process's hold on the lock: (depth, the locked file). Holding it is re-entrant within a process (the run's
# fixture and its stack's `up` both take it); a second flock on another descriptor would wait for ourselves.
_held: list = [0, None]
_held_guard = threading.Lock()


@contextlib.contextmanager
def stack_lock(progress: Callable[[str], None], timeout_s: float) -> Iterator[None]:
    """One ephemeral stack per host at a time (it binds 443, 8443 and the published ports): wait, bounded, for the
    run that holds them, saying which. Re-entrant within one process."""
    with _held_guard:
        reentered = bool(_held[0])
        if reentered:
            _held[0] += 1
    if not reentered:
        handle = _acquire(progress, timeout_s)
        with _held_guard:
            _held[:] = [1, handle]
    try:
        yield
    finally:
        _release()


def _release() -> None:
    """One holder less; the last one, whichever it is, unlocks (a stack dropped without `down` releases its hold
    when it is collected, possibly after the holder that took the lock is gone)."""
    with _held_guard:
        _held[0] -= 1
        if _held[0] > 0:
            return
        handle, _held[1] = _held[1], None
    if handle is not None:
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _acquire(progress: Callable[[str], None], timeout_s: float):
    handle = LOCK_FILE.open("a+")
    deadline = time.monotonic() + timeout_s
    said, holder = False, "another run"
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not said:
                handle.seek(0)
                holder = handle.read().strip() or "another run"
                progress(f"waiting (up to {timeout_s:.0f} s) for {holder} to release the stack's ports")
                said = True
            if time.monotonic() > deadline:
                handle.close()
                raise LockTimeout(f"another run ({holder}) held the stack's ports for {timeout_s:.0f} s") from None
            time.sleep(0.5)
    handle.seek(0)
    handle.truncate()
    handle.write(f"run {current_owner()} in {os.getcwd()}\n")
    handle.flush()
    return handle
