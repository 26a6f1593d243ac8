"""Static proofs as data: a fault or pass variant applied to a copy of the healthy deployment and loaded once per
test session (the proof tests and the mutation run read the same loaded deployments)."""

from __future__ import annotations

import shutil
from pathlib import Path

from lobestack.checks.faults import Fault, Pass
from lobestack.deployment import Deployment, load_deployment
from tests.faults import apply_static


class Variants:
    """Deployments with one change applied, built on first use and kept for the session."""

    def __init__(self, healthy: Path, scratch: Path) -> None:
        self.healthy = healthy
        self.scratch = scratch
        self.loaded: dict[int, Deployment] = {}

    def of(self, change: Fault | Pass) -> Deployment:
        key = id(change)  # faults and passes live in the registry for the whole session
        if key not in self.loaded:
            root = self.scratch / f"variant-{len(self.loaded)}"
            shutil.copytree(self.healthy, root)
            apply_static(change, root)
            self.loaded[key] = load_deployment(root)
        return self.loaded[key]
