"""A start that cannot succeed fails fast and explains itself; its logs are written with secrets masked; a stack
left behind by an interrupted run is found by name and removed on the next start."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lobestack.checks.registry import Edit
from lobestack.targets.compose import EphemeralStack, StackStartError, remove_leftovers
from tests.stack.conftest import leftovers

# LobeChat that prints a secret and exits at once: it never gets healthy, and its log holds a secret to mask.
CRASHING_LOBE = Edit(
    "docker-compose.yml",
    "    image: lobehub/lobe-chat-database:v1.143.3\n",
    "    image: lobehub/lobe-chat-database:v1.143.3\n"
    '    entrypoint: ["sh", "-c", "echo booting with key $$KEY_VAULTS_SECRET; exit 3"]\n',
)


def test_unhealthy_service_fails_fast_with_log_tail_and_redacted_logs(reference_images: None, workdir: Path) -> None:
    stack = EphemeralStack.create(workdir, "reference", edit=CRASHING_LOBE.apply)
    secret = stack.deployment.env.get("KEY_VAULTS_SECRET")
    t0 = time.monotonic()
    with pytest.raises(StackStartError) as failure:
        stack.up(timeout_s=180)
    elapsed = time.monotonic() - t0
    try:
        error = failure.value
        assert error.service == "lobe"
        assert "restarting" in error.reason or "exited with code 3" in error.reason
        assert elapsed < 90, f"took {elapsed:.0f} s: the crash should end the wait at once, not the deadline"
        assert "booting with key ***" in error.log_tail
        assert secret not in str(error)
        logs = stack.write_logs(workdir / "logs")
        assert {p.name for p in logs} >= {"lobe.log", "logto.log", "nginx.log"}
        lobe_log = (workdir / "logs" / "lobe.log").read_text()
        assert "booting with key ***" in lobe_log
        assert not any(secret in p.read_text() for p in logs)
    finally:
        # Leave it up, as an interrupted run would: the next start must find it by name and remove all of it.
        removed = remove_leftovers(progress=lambda line: None)
    assert stack.project in removed
    assert leftovers(stack.project) == {"ps": [], "network": [], "volume": []}
