"""Stack self-tests bring the reference stack up and down through the same code a `tox -e smoke` run takes
(leftover cleanup, image builds, render, start with progress, teardown). They need a Docker engine with
Compose v2 (scripts/setup-host); without one they skip with the reason."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


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
    from lobestack.targets.images import ensure_images
    from lobestack.targets.runs import remove_leftovers

    remove_leftovers()
    ensure_images()


def leftovers(project: str) -> dict[str, list[str]]:
    """Containers, networks and volumes Docker still has for a Compose project."""
    found = {}
    for kind in ("ps -a", "network ls", "volume ls"):
        out = subprocess.run(
            [
                "docker",
                *kind.split(),
                "--filter",
                f"label=com.docker.compose.project={project}",
                "--format",
                "{{.Name}}" if kind != "ps -a" else "{{.Names}}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
        found[kind.split()[0]] = out
    return found


@pytest.fixture(scope="module")
def stack_ports(docker_ready: None) -> Iterator[None]:
    """The host's stack ports, held while a module's stacks run (other runs wait; see targets/runs.py). Tests that
    start a stack in a subprocess must not hold them (the subprocess takes them itself)."""
    from lobestack.targets.runs import stack_lock

    with stack_lock(print, 900):
        yield


@pytest.fixture(scope="module")
def healthy_stack(docker_ready: None, stack_ports: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from lobestack.targets.compose import EphemeralStack
    from lobestack.targets.images import ensure_images
    from lobestack.targets.runs import remove_leftovers

    # Under the host's stack lock, as a run's start does: the images this checkout builds are the ones `up` pins.
    remove_leftovers()
    ensure_images()
    stack = EphemeralStack.create(tmp_path_factory.mktemp("stack"), "reference")
    try:
        stack.up(timeout_s=240)
        yield stack
    finally:
        stack.down()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
