"""lobestack as users get it: the wheel, built from this checkout, installed into a fresh virtual environment in a
temporary directory (no checkout on the path), without extras. From there: `lobestack init`, `lobestack check
static` (exit 0; exit 1 naming the check after a fault), `pytest --pyargs lobestack.suites.static`, the refusal of
`lobestack check stack` without the `stack` extra (one line, exit 4), and the CI templates' install and gate
commands as their CI would run them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import HEALTHY, REPO

EXIT_BAD_INPUT = 4


@dataclass(frozen=True)
class Installed:
    root: Path  # a directory outside the checkout: the venv, the wheel and the runs' work live here
    venv: Path
    wheel: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A command with the venv first on PATH, as a user's shell (or CI job) would run it, outside the checkout."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "LOBESTACK_ENV")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            list(args), cwd=cwd or self.root, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """One wheel and one venv (no extras) for the session: building and installing take most of a minute."""
    root = tmp_path_factory.mktemp("installed")
    dist = root / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("lobestack-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return Installed(root, venv, wheel)


def _init(installed: Installed, out: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`lobestack init` from the installed venv, with a Logto client (as after `lobestack provision`)."""
    run = installed.run(
        "lobestack",
        "init",
        "--app-domain",
        HEALTHY.app_domain,
        "--auth-domain",
        HEALTHY.auth_domain,
        "--logto-client-id",
        HEALTHY.logto_client_id,
        "--logto-client-secret",
        HEALTHY.logto_client_secret,
        "--out",
        str(out),
        cwd=cwd,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.fixture
def deploy_dir(installed: Installed, tmp_path: Path) -> Path:
    """`lobestack init` run from the installed venv, with a Logto client (as after `lobestack provision`)."""
    out = tmp_path / "deploy"
    run = _init(installed, out, cwd=tmp_path)
    assert f"check it: lobestack check static --deployment {out}" in run.stdout
    return out


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    run = installed.run("python", "-c", "import lobestack, lobestack.suites; print(lobestack.__file__)")
    assert run.returncode == 0, run.stderr
    assert str(installed.venv) in run.stdout and str(REPO) not in run.stdout
    shipped = installed.run("python", "-c", "import importlib.util as u; print(u.find_spec('testcontainers'))")
    assert shipped.stdout.strip() == "None"  # no extras: the static gate needs none of them


def test_check_static_passes_then_fails_with_the_checks_id(installed: Installed, deploy_dir: Path) -> None:
    work = deploy_dir.parent
    run = installed.run("lobestack", "check", "static", "--deployment", str(deploy_dir), "-q", cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("lobestack static: target=files"), run.stdout
    summary = json.loads((work / "reports" / "static" / "summary.json").read_text())
    assert len(summary["checks"]) >= 40 and {c["outcome"] for c in summary["checks"]} == {"passed"}
    assert not (deploy_dir / "reports").exists()  # reports land where lobestack runs, not in the deployment

    env = deploy_dir / ".env"
    broken = "@" * 24  # not base64; no run of it occurs in the finding (the redactor masks any six characters)
    env.write_text(re.sub(r"(?m)^KEY_VAULTS_SECRET=.*$", f"KEY_VAULTS_SECRET={broken}", env.read_text()))
    run = installed.run("lobestack", "check", "static", "--deployment", str(deploy_dir), "-q", cwd=work)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED test_static_checks.py::test_check[ENV-KEY-VAULTS]" in run.stdout
    report = (work / "reports" / "static" / "summary.json").read_text()
    (failed,) = [c for c in json.loads(report)["checks"] if c["outcome"] != "passed"]
    assert failed["id"] == "ENV-KEY-VAULTS" and "KEY_VAULTS_SECRET is not valid base64" in failed["message"]
    assert broken not in run.stdout + report  # the secret's value never reaches the output or a report


def test_pytest_pyargs_runs_the_shipped_static_suite(installed: Installed, deploy_dir: Path) -> None:
    run = installed.run(
        "pytest", "--pyargs", "lobestack.suites.static", "--deployment", str(deploy_dir), "-q", cwd=deploy_dir.parent
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\b4\d passed\b", run.stdout), run.stdout


def test_an_unrelated_pytest_run_gets_no_lobestack_reports(installed: Installed, tmp_path: Path) -> None:
    (tmp_path / "test_theirs.py").write_text("def test_theirs():\n    pass\n")
    run = installed.run("pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(("layer", "extra"), [("stack", "stack"), ("e2e", "browser"), ("host", "host")])
def test_a_layer_without_its_extra_is_refused_in_one_line(
    installed: Installed, deploy_dir: Path, layer: str, extra: str
) -> None:
    run = installed.run("lobestack", "check", layer, "--deployment", str(deploy_dir), cwd=deploy_dir.parent)
    assert run.returncode == EXIT_BAD_INPUT, run.stdout + run.stderr
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert f"pip install 'lobestack[{extra}]'" in line and "Traceback" not in run.stderr


def test_pytest_with_the_compose_target_without_the_extra_is_a_usage_error(
    installed: Installed, deploy_dir: Path
) -> None:
    run = installed.run(
        "pytest", "--pyargs", "lobestack.suites.stack", "--target", "compose", "--deployment", str(deploy_dir)
    )
    assert run.returncode == EXIT_BAD_INPUT, run.stdout + run.stderr
    assert "pip install 'lobestack[stack]'" in run.stderr and "Traceback" not in run.stdout + run.stderr


def _steps(path: Path) -> list[str]:
    """The shell commands of a CI template, in order (GitHub: the steps' `run`; GitLab: the job's `script`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "jobs" in data:
        (job,) = data["jobs"].values()
        return [step["run"] for step in job["steps"] if "run" in step]
    (job,) = data.values()
    return list(job["script"])


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_the_predeploy_templates_install_and_gate_commands_run(installed: Installed, tmp_path: Path, ci: str) -> None:
    """The template's own commands, run by bash from the project directory a CI checks out, with the requirement
    pointing at the built wheel: the pip install (already satisfied: nothing is fetched) and the static gate."""
    workspace = tmp_path / "project"
    _init(installed, workspace / "deploy")
    commands = [
        c for c in _steps(REPO / "ci" / ci / "lobestack-predeploy.yml") if "pip install" in c or "check static" in c
    ]
    assert [("pip install" in c, "check static" in c) for c in commands] == [(True, False), (False, True)]
    script = "set -euo pipefail\n" + "\n".join(c.replace("python3 -m pip", "python -m pip") for c in commands)
    env_for = {"github": "GITHUB_WORKSPACE", "gitlab": "CI_PROJECT_DIR"}[ci]
    run = installed.run(
        "bash",
        "-c",
        f"export {env_for}={workspace} LOBESTACK_REQUIREMENT='{installed.wheel}'\n{script}",
        cwd=workspace,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (workspace / "reports" / "static" / "junit.xml").is_file()
    assert shutil.which("lobestack", path=str(installed.bin))
