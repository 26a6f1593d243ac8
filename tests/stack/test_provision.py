"""`python -m lobestack provision` on a fresh reference stack (the REAL Logto 1.37.1 and LobeChat 1.143.3), run
exactly as a user runs it (the CLI, the names pinned
with --resolve, the deployment's own CA, Compose's files named by COMPOSE_FILE): the offline first admin fails with
its explanation, `--plan` writes nothing, provisioning makes the OIDC checks pass and the test user sign in, a second
run changes nothing, a drifted redirect URI is repaired, a wrong admin password is one line and exit 4, and the
breached-password check can be turned off. The tests run in this order on one stack."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lobestack.checks import all_checks
from lobestack.deployment import load_deployment
from lobestack.render.ephemeral import APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN
from tests.conftest import REPO
from tests.faults import snapshot

OIDC_CHECKS = [c for c in all_checks("stack") if c.id.startswith(("OIDC-", "LOBE-", "STACK-VHOST-"))]
OFFLINE = "/tmp/lobestack-offline"  # in the breached-password stand-in: close every connection


@pytest.fixture(scope="module")
def fresh_stack(reference_set: None, stack_ports: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A reference stack started and healthy, but not provisioned: the real Logto has no admin and no application."""
    from lobestack.targets.compose import EphemeralStack

    stack = EphemeralStack.create(tmp_path_factory.mktemp("provision"), "reference")
    try:
        stack.up(timeout_s=240, provision=False)
        yield stack
    finally:
        stack.down()


def provision(stack, *args: str, root: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it on the server: credentials in the environment, Compose's files in COMPOSE_FILE."""
    root = root or stack.root
    values = stack.deployment.env
    pinned = [a for name in (APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN) for a in ("--resolve", f"{name}:127.0.0.1")]
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "COMPOSE_FILE": os.pathsep.join(stack.compose.compose_file_name),
        "LOBESTACK_LOGTO_ADMIN_USERNAME": values.get("LOBESTACK_LOGTO_ADMIN_USERNAME"),
        "LOBESTACK_LOGTO_ADMIN_PASSWORD": values.get("LOBESTACK_LOGTO_ADMIN_PASSWORD"),
        "LOBESTACK_TEST_USER": values.get("LOBESTACK_TEST_USER"),
        "LOBESTACK_TEST_PASSWORD": values.get("LOBESTACK_TEST_PASSWORD"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "lobestack", "provision", "--deployment", str(root), *pinned, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


def container_id(stack, service: str) -> str:
    return stack.compose_run("ps", "-q", service).stdout.strip()


def findings(stack) -> dict[str, list[str]]:
    stack.deployment = load_deployment(stack.root)
    return {c.id: [str(f) for f in c.findings(stack)] for c in OIDC_CHECKS if c.findings(stack)}


def logto_of(stack):
    from lobestack.provision.logto import Logto

    env = stack.deployment.env
    return Logto(stack.http, env.get("LOGTO_ENDPOINT"), env.get("LOGTO_ADMIN_ENDPOINT"))


def test_offline_first_admin_without_the_breached_password_service_fails_with_its_explanation(fresh_stack) -> None:
    """The breached-password stand-in closes every connection (no request leaves the host): Logto's password step
    answers 500, and provisioning says what that is and what to do, in one line, exit 1."""
    assert fresh_stack.exec("pwned-passwords", ["touch", OFFLINE]).returncode == 0
    try:
        result = provision(fresh_stack, "--create-admin")
    finally:
        fresh_stack.exec("pwned-passwords", ["rm", "-f", OFFLINE])
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "its breached-password check could not reach api.pwnedpasswords.com" in result.stderr
    assert "'Offline first admin'" in result.stderr
    assert "fetch failed" in fresh_stack.log_tail("logto", lines=40)
    assert not logto_of(fresh_stack).first_admin_exists()


def test_plan_on_a_fresh_stack_writes_nothing(fresh_stack) -> None:
    before = snapshot(fresh_stack.root)
    result = provision(fresh_stack, "--plan", "--create-admin", "--test-user")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would create 'admin'" in result.stdout
    assert "would create 'LobeChat'" in result.stdout
    assert "plan: " in result.stdout and "nothing was written" in result.stdout
    assert snapshot(fresh_stack.root) == before
    assert not logto_of(fresh_stack).first_admin_exists(), "--plan created the admin"


def test_a_fresh_stack_provisioned_passes_the_oidc_checks_and_its_user_signs_in(fresh_stack) -> None:
    assert "OIDC-CLIENT" in findings(fresh_stack), "a fresh Logto has no application for LobeChat"
    lobe_before = container_id(fresh_stack, "lobe")
    result = provision(fresh_stack, "--create-admin", "--test-user")
    assert result.returncode == 0, result.stdout + result.stderr
    for said in ("create 'admin'", "create 'lobestack provisioning'", "create 'LobeChat'", "create 'tester'"):
        assert said in result.stdout
    assert "recreate (AUTH_LOGTO_ID, AUTH_LOGTO_SECRET changed)" in result.stdout
    assert container_id(fresh_stack, "lobe") != lobe_before
    assert findings(fresh_stack) == {}
    env = fresh_stack.deployment.env
    api = logto_of(fresh_stack).management(
        logto_of(fresh_stack).machine_token(env.get("LOGTO_PROVISION_APP_ID"), env.get("LOGTO_PROVISION_APP_SECRET"))
    )
    app = api.application(env.get("AUTH_LOGTO_ID"))
    assert env.get("AUTH_LOGTO_SECRET") == api.secrets(app["id"])[0]["value"] != app["secret"]
    assert not env.get("LOGTO_PROVISION_APP_SECRET").startswith("#internal:")
    app_url = env.get("APP_URL")
    tokens = logto_of(fresh_stack).code_flow(
        env.get("AUTH_LOGTO_ID"),
        env.get("AUTH_LOGTO_SECRET"),
        f"{app_url}/api/auth/callback/logto",
        env.get("LOBESTACK_TEST_USER"),
        env.get("LOBESTACK_TEST_PASSWORD"),
        "openid offline_access profile email",
    )
    assert tokens.id_token
    claims = json.loads(base64.urlsafe_b64decode(tokens.id_token.split(".")[1] + "=="))
    assert (claims["iss"], claims["username"]) == (env.get("AUTH_LOGTO_ISSUER"), env.get("LOBESTACK_TEST_USER"))


def test_a_second_run_changes_nothing(fresh_stack) -> None:
    before, lobe = snapshot(fresh_stack.root), container_id(fresh_stack, "lobe")
    result = provision(fresh_stack, "--create-admin", "--test-user")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("lobestack provision: nothing to change"), result.stdout
    assert snapshot(fresh_stack.root) == before
    assert container_id(fresh_stack, "lobe") == lobe


def test_a_drifted_redirect_uri_is_repaired(fresh_stack) -> None:
    env = fresh_stack.deployment.env
    logto = logto_of(fresh_stack)
    api = logto.management(
        logto.machine_token(env.get("LOGTO_PROVISION_APP_ID"), env.get("LOGTO_PROVISION_APP_SECRET"))
    )
    app = api.application(env.get("AUTH_LOGTO_ID"))
    drifted = {**app["oidcClientMetadata"], "redirectUris": ["https://old.example.com/api/auth/callback/logto"]}
    api.update_application(app["id"], {"oidcClientMetadata": drifted})
    assert "oidc.invalid_redirect_uri" in " ".join(findings(fresh_stack).get("OIDC-CLIENT", []))
    before, lobe = snapshot(fresh_stack.root), container_id(fresh_stack, "lobe")
    result = provision(fresh_stack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "repair 'LobeChat'" in result.stdout and "https://old.example.com/api/auth/callback/logto" in result.stdout
    assert findings(fresh_stack) == {}
    assert api.application(app["id"])["oidcClientMetadata"] == app["oidcClientMetadata"]
    assert snapshot(fresh_stack.root) == before and container_id(fresh_stack, "lobe") == lobe


def test_without_its_credentials_the_provisioning_app_is_found_again_and_a_wrong_admin_password_exits_4(
    fresh_stack, tmp_path: Path
) -> None:
    """Without working provisioning-app credentials (a copy of the deployment without them) provisioning signs in
    as the console's admin and finds its app again by name; a wrong password is the user's mistake, one line and
    exit 4."""
    copy = tmp_path / "deploy"
    shutil.copytree(fresh_stack.root, copy, ignore=shutil.ignore_patterns("certs", "pwnedpasswords"))
    text = (copy / ".env").read_text()
    for key in ("LOGTO_PROVISION_APP_ID", "LOGTO_PROVISION_APP_SECRET"):
        text = text.replace(f"{key}={fresh_stack.deployment.env.get(key)}\n", f"{key}=\n")
    (copy / ".env").write_text(text)
    before = snapshot(copy)
    result = provision(fresh_stack, "--plan", root=copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"reuse 'lobestack provisioning' ({fresh_stack.deployment.env.get('LOGTO_PROVISION_APP_ID')})" in result.stdout
    )
    assert "would write LOGTO_PROVISION_APP_ID, LOGTO_PROVISION_APP_SECRET" in result.stdout
    assert snapshot(copy) == before
    result = provision(fresh_stack, "--plan", root=copy, LOBESTACK_LOGTO_ADMIN_PASSWORD="not-the-password")
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "Logto refused the console admin's sign-in (LOBESTACK_LOGTO_ADMIN_USERNAME='admin'" in result.stderr
    assert "session.invalid_credentials" in result.stderr and "not-the-password" not in result.stderr


def test_breached_password_check_off_for_an_offline_install(fresh_stack) -> None:
    result = provision(fresh_stack, "--no-breached-password-check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would" not in result.stdout and "turn off in the default tenant's password policy" in result.stdout
    again = provision(fresh_stack, "--no-breached-password-check")
    assert any(
        line.split() == ["breached-password", "check", "off", "(default", "tenant)"]
        for line in again.stdout.splitlines()
    )
    assert again.stdout.rstrip().endswith("nothing to change")
