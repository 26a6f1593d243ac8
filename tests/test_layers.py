"""The house's floors (pyproject.toml's import-linter `layers` contract): no module imports a floor above its own.
The contract is run on the package as it is, and on a copy with one upward import added, which it must refuse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_no_upward_import() -> None:
    run = lint_imports(REPO / "src")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(REPO / "src" / "lobestack", tmp_path / "lobestack", ignore=shutil.ignore_patterns("__pycache__"))
    model = tmp_path / "lobestack" / "deployment" / "model.py"
    # the deployment model reaching up into the report layer: what the contract exists to stop
    model.write_text(model.read_text() + "\n\ndef _upward() -> None:\n    from lobestack.report import summary\n")
    run = lint_imports(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "lobestack.deployment.model -> lobestack.report.summary" in run.stdout
