"""Every browser flow proves itself on the reference stack (REAL LobeChat 1.143.3 built from its npm package, REAL
Logto 1.37.1 built from its release source, the MinIO stand-in), in Debian's Chromium: it passes on the healthy
stack, fails at the step its fault names with the cause the fault names while the fault is injected, and passes again
once the fault is undone (every touched file back byte for byte). Passwords never reach a finding or an artifact; a
failed flow leaves its trace, screenshot and final URL; `--target live` runs the same flows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lobestack.browser import flows
from lobestack.checks import Check, all_checks
from lobestack.checks.e2e.e2e import WRONG_PASSWORD
from lobestack.checks.faults import fault
from tests.conftest import REPO
from tests.faults import injected, snapshot

CHECKS = all_checks("e2e")
PROOFS = [pytest.param(c, i, id=f"{c.id}#{i}") for c in CHECKS for i in range(len(c.faults))]


@pytest.fixture(scope="module")
def session(reference_stack: Any, playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A browser for the module's stack (its names pinned to its Nginx, its CA in a throwaway NSS database)."""
    from lobestack.browser.chromium import browser_home, launch_options
    from lobestack.browser.session import BrowserSession

    home = browser_home(reference_stack, tmp_path_factory.mktemp("browser-home"))
    browser = playwright.chromium.launch(**launch_options(reference_stack, home))
    try:
        yield BrowserSession(reference_stack, browser, tmp_path_factory.mktemp("reports"))
    finally:
        browser.close()


def secrets_of(session: Any) -> set[str]:
    """Every password the run knows: the stack's accounts and whatever the flows typed."""
    return {*session.target.accounts().passwords, *session.typed_secrets}


def leaks(directory: Path, secrets: set[str]) -> list[str]:
    """Files under `directory` (and members of its zip files) that contain one of `secrets`."""
    found = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        blobs = [(str(path), path.read_bytes())]
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                blobs += [(f"{path}!{name}", archive.read(name)) for name in archive.namelist()]
        found += [where for where, data in blobs for s in secrets if s.encode() in data]
    return found


# --- the reference set itself: the real LobeChat, built from its npm package ----------------------------------------


def _image_labels(stack: Any, service: str) -> dict[str, Any]:
    container = subprocess.run(
        ["docker", "compose", "-p", stack.project, "ps", "-q", service], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    inspected = subprocess.run(
        ["docker", "inspect", "--format", "{{json .Config.Labels}}", container],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return json.loads(inspected.stdout)


def test_reference_lobechat_is_the_real_one_built_from_npm(reference_stack: Any) -> None:
    labels = _image_labels(reference_stack, "lobe")
    assert labels["org.lobestack.standin"] == "false"
    assert labels["org.lobestack.built-from"] == "npm:@lobehub/chat@1.143.3"
    assert "built locally" in labels["org.opencontainers.image.title"]
    # Next.js's standalone server of the package's own build, started by its own launcher
    ps = reference_stack.exec("lobe", ["/bin/node", "-e", "console.log(require('/app/package.json').version)"])
    assert ps.stdout.strip() == "1.143.3", ps.stdout + ps.stderr
    providers = reference_stack.http.get("https://lobe.test/api/auth/providers")
    assert providers.status == 200 and "logto" in json.loads(providers.text), providers.text[:300]
    assert providers.header("server") != "lobestack-lobechat-standin"


def test_reference_logto_is_the_real_one_built_from_its_source(reference_stack: Any) -> None:
    """The running `logto` is the real Logto 1.37.1: its labels, its core's package.json, the oidc-provider fork it
    runs, and what a stand-in would not send (no stand-in Server header)."""
    labels = _image_labels(reference_stack, "logto")
    assert labels["org.lobestack.standin"] == "false"
    assert labels["org.lobestack.built-from"].startswith("git:logto-io/logto@v1.37.1")
    assert "not a stand-in" in labels["org.opencontainers.image.title"]
    script = (
        "const fs=require('fs'),p=require('path');"
        "const core=JSON.parse(fs.readFileSync('/etc/logto/packages/core/package.json','utf8'));"
        "const oidc=p.join(fs.realpathSync('/etc/logto/packages/core/node_modules/oidc-provider'),'package.json');"
        "console.log(JSON.stringify({core:core.version,oidc:core.dependencies['oidc-provider'],"
        "oidcVersion:JSON.parse(fs.readFileSync(oidc,'utf8')).version}))"
    )
    found = reference_stack.exec("logto", ["node", "-e", script])
    facts = json.loads(found.stdout)
    assert facts["core"] == "1.37.1", found.stdout + found.stderr
    assert facts["oidc"].endswith("oidc-provider-b958a6a.tgz"), facts  # the fork at b958a6a3, not upstream's package
    status = reference_stack.http.get("https://auth.test/api/status")
    assert status.status == 204 and status.header("server") != "lobestack-logto-standin"


def test_reference_lobechat_migrates_its_schema_on_real_pgvector(reference_stack: Any) -> None:
    """startServer.js runs the package's drizzle migrations (docker.cjs) before Next.js starts: every migration of
    the package is applied, on PostgreSQL with the vector extension."""
    log = reference_stack.service_log("lobe", "1970-01-01T00:00:00Z") or ""
    assert "✅ database migration pass." in log, log[-2000:]
    journal = reference_stack.exec("lobe", ["/bin/cat", "/app/migrations/meta/_journal.json"])
    migrations = len(json.loads(journal.stdout)["entries"])
    query = (
        "SELECT (SELECT count(*) FROM drizzle.__drizzle_migrations), "
        "(SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
        "(SELECT count(*) FROM information_schema.columns WHERE table_name = 'embeddings' AND udt_name = 'vector')"
    )
    psql = reference_stack.exec("lobe-db", ["psql", "-U", "lobe", "-d", "lobechat", "-tAc", query])
    applied, vector, vector_columns = psql.stdout.strip().split("|")
    assert int(applied) == migrations > 0, psql.stdout + psql.stderr
    assert vector and int(vector_columns) >= 1


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_flow_has_faults_that_name_their_step_and_finding(check: Check) -> None:
    assert check.faults, f"{check.id} has no fault that proves it can fail"
    steps = {*flows.SIGN_IN_STEPS, *flows.CONSOLE_STEPS, *flows.UPLOAD_STEPS}
    for proof in check.faults:
        assert proof.live, f"{check.id}: {proof} is not a change to a running stack"
        assert proof.expect, f"{check.id}: {proof} does not name the finding it expects"
        assert proof.at in steps, f"{check.id}: {proof} does not name a step of the flow"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_flow_passes_on_reference_stack(check: Check, session: Any) -> None:
    findings = [str(f) for f in check.findings(session)]
    assert not findings, f"{check.id}: {findings}"


def test_console_signs_in_once_its_administrator_exists(session: Any) -> None:
    """The first console flow on a fresh stack created the administrator; the next one signs in as it."""
    console = next(c for c in CHECKS if c.id == "E2E-CONSOLE")
    assert not console.findings(session)
    steps = session.results["E2E-CONSOLE"].steps
    assert flows.SIGN_IN_ADMIN in steps and flows.CREATE_ADMIN not in steps, steps


@pytest.mark.parametrize(("check", "index"), PROOFS)
def test_flow_fails_at_its_step_on_its_fault(check: Check, index: int, session: Any, reference_stack: Any) -> None:
    proof = check.faults[index]
    session.sign_in_once()  # a user signed in before the stack broke (the upload flow uses that session)
    before = snapshot(reference_stack.root)
    with injected(reference_stack, proof):
        findings = [str(f) for f in check.findings(session)]
    assert snapshot(reference_stack.root) == before, f"{proof} did not restore the deployment byte for byte"
    assert findings, f"{check.id} did not catch: {proof}"
    text = "\n".join(findings)
    print(text)  # the finding as a user reads it (pytest -rP)
    assert f"“{proof.at}”" in text, f"{check.id} did not fail at step “{proof.at}”: {text}"
    assert proof.expect in text, f"{check.id}: no finding has {proof.expect!r}: {text}"
    assert not [s for s in secrets_of(session) if s in text], f"{check.id}: a password in the finding"
    after = [str(f) for f in check.findings(session)]
    assert not after, f"{check.id} still fails after the fault was undone: {after}"


def test_failed_flow_leaves_trace_screenshot_and_final_url_without_passwords(
    session: Any, reference_stack: Any
) -> None:
    signin = next(c for c in CHECKS if c.id == "E2E-SIGNIN")
    with injected(reference_stack, fault(WRONG_PASSWORD, expect="")):
        findings = [str(f) for f in signin.findings(session)]
    artifacts = session.results["E2E-SIGNIN"].artifacts
    assert findings and artifacts is not None
    assert f"“{flows.SUBMIT_CREDENTIALS}”" in findings[0], findings[0]
    names = {p.name for p in artifacts.files}
    assert {"trace-1.zip", "screenshot.png", "final-url.txt", "pages.txt"} <= names, names
    assert len(artifacts.traces) >= 2  # the stretches around the typed passwords
    assert artifacts.final_url.startswith("https://auth.test/sign-in")
    assert f"artifacts: {artifacts.names()}" in findings[0]
    secrets = secrets_of(session)
    assert len(secrets) >= 3  # the stack's two accounts, the deliberately wrong one and the fault's
    assert not leaks(session.report_dir, secrets)
    assert not signin.findings(session)


def _live_command(stack: Any, report_dir: Path, *suites: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        *(suites or ("src/lobestack/suites/e2e",)),
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    command += ["--target", "live"]
    command += ["--deployment", str(stack.root), "--ca-file", str(stack.ca_file), "--allow-writes"]
    command += ["--report-dir", str(report_dir), "--lobestack-env", "e2e-live"]
    for name in ("lobe.test", "auth.test", "s3.test"):
        command += ["--resolve", f"{name}:127.0.0.1"]
    return command


def _live_env(stack: Any, password: str | None = None) -> dict[str, str]:
    accounts = stack.accounts()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOBESTACK_E2E_")}
    env.update(
        LOBESTACK_E2E_USER=accounts.user.username,
        LOBESTACK_E2E_PASSWORD=password or accounts.user.password,
        LOBESTACK_E2E_ADMIN_USER=accounts.admin.username,
        LOBESTACK_E2E_ADMIN_PASSWORD=accounts.admin.password,
    )
    return env


def test_live_target_runs_the_flows(reference_stack: Any, tmp_path: Path) -> None:
    """`pytest src/lobestack/suites/e2e --target live …` against the running stack, credentials from the environment."""
    result = subprocess.run(
        _live_command(reference_stack, tmp_path),
        cwd=REPO,
        env=_live_env(reference_stack),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {c["id"]: c["outcome"] for c in summary["checks"]} == {
        "E2E-CONSOLE": "passed",
        "E2E-SIGNIN": "passed",
        "E2E-UPLOAD": "passed",
    }


def test_live_failure_reports_artifacts_and_no_password(reference_stack: Any, tmp_path: Path) -> None:
    """A wrong password from the environment: the run fails at the step, report.html links the trace, summary.json
    names the artifacts, and no file of the run (traces unzipped) holds a password."""
    wrong = "wrong-live-password-1234"
    result = subprocess.run(
        [*_live_command(reference_stack, tmp_path, "src/lobestack/suites/e2e/test_signin.py")],
        cwd=REPO,
        env=_live_env(reference_stack, password=wrong),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    (signin,) = summary["checks"]
    assert signin["id"] == "E2E-SIGNIN" and signin["outcome"] == "failed"
    assert f"“{flows.SUBMIT_CREDENTIALS}”" in signin["message"]
    assert "artifacts: e2e/E2E-SIGNIN/trace-1.zip" in signin["message"]
    report = (tmp_path / "report.html").read_text()
    assert "e2e/E2E-SIGNIN/trace-1.zip" in report and "final URL" in report
    accounts = reference_stack.accounts()
    assert not leaks(tmp_path, {wrong, accounts.user.password, accounts.admin.password})
    assert wrong not in result.stdout + result.stderr
