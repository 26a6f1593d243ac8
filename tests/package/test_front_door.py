"""`lobestack check LAYER …`: what it hands pytest (the layer's suites, what its tox env adds, the user's options
winning over the defaults), and what it refuses before pytest starts (an unknown layer, a missing extra)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack import cli, extras


@pytest.fixture
def pytest_args(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argument lists `lobestack check` runs pytest with (pytest itself is not started)."""
    calls: list[list[str]] = []

    def main(args: list[str]) -> int:
        calls.append(list(args))
        return 0

    monkeypatch.setattr(pytest, "main", main)
    return calls


def _value(args: list[str], option: str) -> str:
    return args[args.index(option) + 1]


def test_the_static_gate_is_the_default_layer(pytest_args: list[list[str]], tmp_path: Path) -> None:
    assert cli.main(["check", "--deployment", str(tmp_path)]) == 0
    (args,) = pytest_args
    assert args[:2] == ["--pyargs", "lobestack.suites.static"]
    assert "--assert=plain" in args and "no:hypothesispytest" in args
    assert _value(args, "--lobestack-env") == "static" and _value(args, "--deployment") == str(tmp_path)
    assert _value(args, "--rootdir") == str(Path.cwd())


def test_prod_runs_the_stack_and_prod_suites_against_the_live_target(pytest_args: list[list[str]]) -> None:
    assert cli.main(["check", "prod", "--deployment", "deploy", "--baseline", "b.yml"]) == 0
    (args,) = pytest_args
    assert args[:3] == ["--pyargs", "lobestack.suites.stack", "lobestack.suites.prod"]
    assert _value(args, "--target") == "live" and _value(args, "--request-budget") == "150"
    assert _value(args, "--baseline") == "b.yml"


def test_the_users_own_options_win_over_the_layers_defaults(pytest_args: list[list[str]]) -> None:
    assert cli.main(["check", "prod", "--request-budget=40", "--lobestack-env", "nightly"]) == 0
    (args,) = pytest_args
    assert "150" not in args and "--request-budget=40" in args
    assert args.count("--lobestack-env") == 1 and _value(args, "--lobestack-env") == "nightly"


def test_stack_needs_its_extra_only_for_the_compose_target(
    pytest_args: list[list[str]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(extras, "missing", lambda extra: ["testcontainers"] if extra == "stack" else [])
    assert cli.main(["check", "stack", "--deployment", "deploy"]) == 4
    assert pytest_args == []
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "lobestack: error: the ephemeral stack (--target compose) needs the `stack` extra (testcontainers not "
        "installed): pip install 'lobestack[stack]'"
    )
    assert cli.main(["check", "stack", "--target", "live", "--deployment", "deploy"]) == 0
    (args,) = pytest_args
    assert args.count("--target") == 1 and _value(args, "--target") == "live"


def test_an_unknown_layer_is_one_line_and_exit_4(
    pytest_args: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", "smoke"]) == 4
    assert pytest_args == []
    (line,) = capsys.readouterr().err.splitlines()
    assert line == "lobestack: error: check: no layer 'smoke' (the layers: static, stack, e2e, prod, host, gpu)"
