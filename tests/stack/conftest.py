"""Stack self-tests bring the reference stack up and down through the same code a `tox -e smoke` run takes
(leftover cleanup, image builds, render, start with progress, teardown). They need a Docker engine with
Compose v2 (scripts/setup-host); without one they skip with the reason (tests/conftest.py: docker_ready,
standin_set, reference_set, stack_ports, shared with the host layer's proofs)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


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


def _healthy(images: str, workdir: Path) -> Iterator[object]:
    from lobestack.targets.compose import EphemeralStack

    stack = EphemeralStack.create(workdir, images)
    try:
        stack.up(timeout_s=240)
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="module")
def healthy_stack(standin_set: None, stack_ports: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A healthy stack of the fast set (stand-ins for LobeChat, Logto and MinIO), provisioned."""
    yield from _healthy("standin", tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def reference_stack(
    reference_set: None, stack_ports: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    """A healthy stack of the reference set (real LobeChat 1.143.3 and real Logto 1.37.1), provisioned."""
    yield from _healthy("reference", tmp_path_factory.mktemp("refstack"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
