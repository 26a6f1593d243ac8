"""Fixtures of the host and gpu proofs: a GPU server's deployment (the gpu profile on) for recorded hosts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lobestack.checks.faults import SetEnv


@pytest.fixture(scope="session")
def gpu_dir(healthy_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The healthy deployment with Ollama on the GPU (COMPOSE_PROFILES=gpu, OLLAMA_PROXY_URL)."""
    root = tmp_path_factory.mktemp("gpu") / "deploy"
    shutil.copytree(healthy_dir, root)
    SetEnv({"COMPOSE_PROFILES": "gpu", "OLLAMA_PROXY_URL": "http://ollama:11434"}).apply(root)
    return root
