"""`tox -e gpu` on a host without a GPU (this CI machine): one clear failing verdict per check, not a crash; the
first line names the host and backend."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lobestack.checks import all_checks
from lobestack.probes.gpu import NO_DRIVER
from tests.conftest import REPO


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this host has an NVIDIA driver")
def test_gpu_suite_on_a_host_without_a_gpu(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "src/lobestack/suites/gpu",
            "-p",
            "no:cacheprovider",
            "-q",
            "--report-dir",
            str(tmp_path),
            "--lobestack-env",
            "gpu",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == "lobestack gpu: target=host host=local:// (backend local) deployment=none given: the bundle's defaults"
    )
    assert result.returncode == 1, result.stdout[-2000:]
    for check in all_checks("gpu"):
        assert f"[{check.id}] {check.impact}: {NO_DRIVER}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
