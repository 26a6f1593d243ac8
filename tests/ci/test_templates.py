"""The CI templates (ci/github, ci/gitlab) are valid for the CI that runs them: check-jsonschema with its vendored
GitHub-workflow and GitLab-CI schemas (offline), actionlint where it is installed; and they run what the README
says (the pre-deploy gate and the nightly prod run, its diff cache, reports and JUnit)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

GITHUB = sorted((REPO / "ci" / "github").glob("*.yml"))
GITLAB = sorted((REPO / "ci" / "gitlab").glob("*.yml"))


def _check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(exe), "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True, timeout=120
    )


def test_there_is_a_predeploy_and_a_nightly_template_for_each_ci() -> None:
    assert [p.name for p in GITHUB] == ["lobestack-nightly.yml", "lobestack-predeploy.yml"]
    assert [p.name for p in GITLAB] == ["lobestack-nightly.yml", "lobestack-predeploy.yml"]


def test_github_workflows_match_the_schema() -> None:
    result = _check_jsonschema("vendor.github-workflows", GITHUB)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_jobs_match_the_schema() -> None:
    result = _check_jsonschema("vendor.gitlab-ci", GITLAB)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint() -> None:
    actionlint = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if actionlint is None:
        pytest.skip("actionlint is not installed (the test extras install it: pip install -e '.[test]')")
    result = subprocess.run([actionlint, "-no-color", *map(str, GITHUB)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_predeploy_runs_the_gate_on_changes_of_the_deployment_directory() -> None:
    github = yaml.safe_load(_text(REPO / "ci/github/lobestack-predeploy.yml"))
    assert github[True]["pull_request"]["paths"] == ["deploy/**"]  # YAML 1.1 reads `on` as True
    gitlab = yaml.safe_load(_text(REPO / "ci/gitlab/lobestack-predeploy.yml"))["lobestack-predeploy"]
    assert gitlab["rules"][0]["changes"] == ["deploy/**/*"]
    for path in (REPO / "ci/github/lobestack-predeploy.yml", REPO / "ci/gitlab/lobestack-predeploy.yml"):
        assert "lobestack check static --deployment" in _text(path), path
        assert "lobestack check stack --deployment" in _text(path), path


@pytest.mark.parametrize("path", [*GITHUB, *GITLAB], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_templates_install_lobestack_with_pip_pinned_never_clone_it(path: Path) -> None:
    text = _text(path)
    assert 'pip install "$LOBESTACK_REQUIREMENT"' in text
    assert "git clone" not in text and "tox" not in text and "repository: " not in text
    default = re.search(r"LOBESTACK_REQUIREMENT: (?:\$\{\{ vars.LOBESTACK_REQUIREMENT \|\| ')?([^'\n]+)", text)
    assert default, "no default LOBESTACK_REQUIREMENT"
    # pinned: a git URL at a tag or commit, or an exact version
    assert re.search(r"@ git\+https://\S+@\S+$|==\d", default.group(1)), default.group(1)


def test_nightly_runs_prod_with_secrets_cache_reports_and_junit() -> None:
    github = yaml.safe_load(_text(REPO / "ci/github/lobestack-nightly.yml"))
    assert "schedule" in github[True]
    steps = github["jobs"]["prod"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/cache/restore") for u in uses) and any(
        u.startswith("actions/cache/save") for u in uses
    )
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    assert any("junit" in u for u in uses)
    text = _text(REPO / "ci/github/lobestack-nightly.yml")
    assert "secrets.LOBESTACK_DOTENV" in text and "lobestack check prod" in text and "--previous" in text
    gitlab = yaml.safe_load(_text(REPO / "ci/gitlab/lobestack-nightly.yml"))["lobestack-nightly"]
    assert gitlab["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "schedule"'
    assert gitlab["artifacts"]["reports"]["junit"] == "reports/prod/junit.xml"
    assert gitlab["cache"]["paths"] == ["previous/"]
    assert "--previous" in " ".join(gitlab["script"])
