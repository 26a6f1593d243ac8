"""A start that cannot succeed fails fast and explains itself; its logs are written with secrets masked. Runs never
harm each other: leftovers are removed only when their run is gone, never a live run's stack or a kept one."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from lobestack.checks.faults import Edit
from lobestack.targets.compose import EphemeralStack, StackStartError
from lobestack.targets.runs import (
    current_owner,
    ephemeral_projects,
    owner_alive,
    remove_leftovers,
)
from tests.stack.conftest import leftovers

# LobeChat that prints a secret and exits at once: it never gets healthy, and its log holds a secret to mask.
CRASHING_LOBE = Edit(
    "docker-compose.yml",
    "    image: lobehub/lobe-chat-database:v1.143.3\n",
    "    image: lobehub/lobe-chat-database:v1.143.3\n"
    '    entrypoint: ["sh", "-c", "echo booting with key $$KEY_VAULTS_SECRET; exit 3"]\n',
)
GONE = f"{socket.gethostname()}:4194303:0"  # a pid above pid_max: a run that is certainly gone


def test_owner_is_alive_only_while_its_process_runs() -> None:
    assert owner_alive(current_owner())
    assert not owner_alive(GONE)
    assert owner_alive("another-host:1:1"), "a run on another host is never ours to judge"


def test_unhealthy_service_fails_fast_with_log_tail_and_redacted_logs(
    standin_set: None, stack_ports: None, workdir: Path
) -> None:
    # Owned by a run that is gone, as an interrupted run would leave it.
    stack = EphemeralStack.create(workdir, "standin", edit=CRASHING_LOBE.apply, owner=GONE)
    secret = stack.deployment.env.get("KEY_VAULTS_SECRET")
    t0 = time.monotonic()
    with pytest.raises(StackStartError) as failure:
        stack.up(timeout_s=180)
    elapsed = time.monotonic() - t0
    try:
        error = failure.value
        assert error.service == "lobe", str(error)
        assert "restarting" in error.reason or "exited with code 3" in error.reason
        assert elapsed < 90, f"took {elapsed:.0f} s: the crash should end the wait at once, not the deadline"
        assert "booting with key ***" in error.log_tail
        assert secret not in str(error)
        logs = stack.write_logs(workdir / "logs")
        assert {p.name for p in logs} >= {"lobe.log", "logto.log", "nginx.log"}
        lobe_log = (workdir / "logs" / "lobe.log").read_text()
        assert "booting with key ***" in lobe_log
        assert not any(secret in p.read_text() for p in logs)
        assert ephemeral_projects()[stack.project]["org.lobestack.owner"] == GONE
    finally:
        # Left up, as an interrupted run leaves it: the next start finds it by its labels and removes all of it.
        removed = remove_leftovers(progress=lambda line: None)
    assert stack.project in removed
    assert leftovers(stack.project) == {"ps": [], "network": [], "volume": []}


def test_a_live_runs_stack_and_a_kept_stack_are_never_removed(
    standin_set: None, stack_ports: None, tmp_path: Path
) -> None:
    mine = EphemeralStack.create(tmp_path / "mine", "standin")  # owned by this (live) process
    kept = EphemeralStack.create(tmp_path / "kept", "standin", keep=True, owner=GONE)
    try:
        for stack in (mine, kept):
            stack.compose_run("create", "--no-build", "lobe-db", timeout_s=120)
        removed = remove_leftovers(progress=lambda line: None)
        assert mine.project not in removed and kept.project not in removed
        assert leftovers(mine.project)["ps"] and leftovers(kept.project)["ps"]
    finally:
        mine.down()
        kept.down()
