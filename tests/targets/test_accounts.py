"""What each target offers the browser flows: the accounts they sign in with, the names the browser pins, and a
reason, never a silent pass, when a flow cannot run."""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.deployment import load_deployment
from lobestack.render.ephemeral import render_ephemeral
from lobestack.targets.compose import EphemeralStack, host_gateway_ip
from lobestack.targets.live import LiveTarget
from lobestack.targets.target import CONSOLE_ADMIN, LOBECHAT_APP, TEST_USER, WRITES


def _stack(tmp_path: Path, images: str) -> EphemeralStack:
    try:
        host_gateway_ip()
    except Exception as exc:  # no docker0: no ephemeral stack on this host
        pytest.skip(str(exc))
    return EphemeralStack.create(tmp_path, images, progress=lambda line: None)


def test_the_standin_stack_has_a_test_user_and_a_console_administrator(tmp_path: Path) -> None:
    stack = _stack(tmp_path, "standin")
    accounts = stack.accounts()
    assert accounts.user.username == "tester" and len(accounts.user.password) >= 20
    assert accounts.admin.username == "admin" and accounts.admin.password != accounts.user.password
    assert {TEST_USER, CONSOLE_ADMIN, WRITES} <= stack.capabilities
    assert stack.name_pins() == dict.fromkeys(("lobe.test", "auth.test", "s3.test"), "127.0.0.1")
    assert stack.only_pinned_names
    assert accounts.user.password not in repr(accounts)  # never in a repr (hence never in a traceback's locals)
    assert {accounts.user.password, accounts.admin.password} <= set(stack.deployment.secret_values())


def test_the_official_stack_has_the_same_accounts(tmp_path: Path) -> None:
    """Every ephemeral stack provisions itself (`provision`: the console's first admin, then the test user through
    the Management API), whichever image set runs."""
    stack = _stack(tmp_path, "official")
    assert {TEST_USER, CONSOLE_ADMIN} <= stack.capabilities


@pytest.mark.parametrize(("images", "real_app"), [("reference", True), ("official", True), ("standin", False)])
def test_only_a_real_lobechat_offers_the_application(tmp_path: Path, images: str, real_app: bool) -> None:
    """The upload flow needs LobeChat's tRPC API: the fast set's stand-in has none, so the flow skips, saying so."""
    stack = _stack(tmp_path, images)
    assert (LOBECHAT_APP in stack.capabilities) is real_app
    assert "use --images reference" in stack.why_not(LOBECHAT_APP)


def test_a_live_target_takes_its_accounts_from_the_environment_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    render_ephemeral(tmp_path / "deploy")
    target = LiveTarget(load_deployment(tmp_path / "deploy"), resolve={"lobe.test": "127.0.0.1"})
    for name in ("USER", "PASSWORD", "ADMIN_USER", "ADMIN_PASSWORD"):
        monkeypatch.delenv(f"LOBESTACK_E2E_{name}", raising=False)
    assert not ({TEST_USER, CONSOLE_ADMIN, WRITES} & target.capabilities)
    assert LOBECHAT_APP in target.capabilities  # a deployment runs the real LobeChat
    assert target.why_not(TEST_USER) == (
        "no test user: set LOBESTACK_E2E_USER and LOBESTACK_E2E_PASSWORD (an account of LobeChat's Logto)"
    )
    assert "LOBESTACK_E2E_ADMIN_USER and LOBESTACK_E2E_ADMIN_PASSWORD" in target.why_not(CONSOLE_ADMIN)
    monkeypatch.setenv("LOBESTACK_E2E_USER", "alice")
    monkeypatch.setenv("LOBESTACK_E2E_PASSWORD", "alice-password")
    assert target.accounts().user.username == "alice" and TEST_USER in target.capabilities
    assert target.name_pins() == {"lobe.test": "127.0.0.1"} and not target.only_pinned_names
