"""The gpu layer: the server's NVIDIA GPU as the host, Docker and Ollama see it, through testinfra (`--hosts`).
A host without a GPU gets one failing verdict per check: "no NVIDIA driver: nvidia-smi not found"."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks

pytestmark = pytest.mark.gpu
CHECKS = all_checks("gpu")


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check(check: Check, host_facts, host_results, run_check) -> None:
    run_check(check, host_facts, host_results[check.id])
