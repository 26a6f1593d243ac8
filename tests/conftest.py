"""Fixtures of lobestack's own tests: a healthy deployment rendered once, and copies of it to break."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lobestack.render.bundle import Settings, render

REPO = Path(__file__).resolve().parents[1]

# A deployment as a user would have it after provisioning: example.com names, a Logto client.
HEALTHY = Settings(
    app_domain="lobe.example.com",
    auth_domain="auth.example.com",
    s3_domain="s3.example.com",
    logto_client_id="q2k8v0x7m3n5b1c9z4l6w",
    logto_client_secret="Zq8sK2mN4pL6rT1vX3yB5dF7hJ9wQ0eA",
)


@pytest.fixture(scope="session")
def healthy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("healthy") / "deploy"
    render(HEALTHY, root)
    return root


@pytest.fixture
def broken_dir(healthy_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the healthy deployment, to edit."""
    target = tmp_path / "deploy"
    shutil.copytree(healthy_dir, target)
    return target


def run_gate(deployment: Path | None, report_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The static gate exactly as `tox -e static -- --deployment DIR` runs it."""
    args = [sys.executable, "-m", "pytest", "suites/static", "-p", "no:cacheprovider", "-q"]
    if deployment is not None:
        args += ["--deployment", str(deployment)]
    args += ["--report-dir", str(report_dir), "--lobestack-env", "static", *extra]
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def variants(healthy_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The healthy deployment with one fault or pass variant applied, each loaded once per session."""
    from tests.static.proofs import Variants

    return Variants(healthy_dir, tmp_path_factory.mktemp("variants"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests import mutation

    for line in mutation.summary_lines():
        terminalreporter.write_line(line)
