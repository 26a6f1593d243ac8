"""Fixtures of lobestack's own tests: a healthy deployment rendered once, and copies of it to break; Docker, the
reference images and the host's stack ports for the tests that bring a stack up (tests/stack, tests/host)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
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


def _docker_ready() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI (scripts/setup-host installs it)"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
        return "no running Docker engine (scripts/setup-host starts it)"
    if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode != 0:
        return "no Compose v2 plugin (scripts/setup-host installs it)"
    return None


@pytest.fixture(scope="session")
def docker_ready() -> None:
    reason = _docker_ready()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def reference_images(docker_ready: None) -> None:
    from lobestack.targets.compose import remove_leftovers
    from lobestack.targets.images import ensure_images

    remove_leftovers()
    ensure_images()


@pytest.fixture(scope="session")
def stack_ports(docker_ready: None) -> Iterator[None]:
    """The host's stack ports, held for the whole test session (other runs wait; see targets/compose.py)."""
    from lobestack.targets.compose import stack_lock

    with stack_lock(print, 900):
        yield
