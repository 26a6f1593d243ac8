"""Every user mistake exits 4 with one line and no traceback: one row per mistake (how to make it, the phrase of
its line, the file it names), each run through the gate as a process, as users run it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lobestack.checks.registry import Edit
from lobestack.errors import EXIT_BAD_INPUT
from tests.conftest import run_gate

COMPOSE = "docker-compose.yml"


@dataclass(frozen=True)
class Mistake:
    make: Callable[[Path, Path], None]  # (deployment, scratch dir): break the deployment
    phrase: str  # a phrase of the one line
    names: str | None = None  # the file (relative to the deployment) the line must name
    args: Callable[[Path, Path], list[str]] = lambda deploy, tmp: ["--deployment", str(deploy)]
    env: dict[str, str] = field(default_factory=dict)


def _replace_with_dir(rel: str) -> Callable[[Path, Path], None]:
    def make(deploy: Path, tmp: Path) -> None:
        (deploy / rel).unlink()
        (deploy / rel).mkdir()

    return make


def _replace_with_loop(rel: str) -> Callable[[Path, Path], None]:
    def make(deploy: Path, tmp: Path) -> None:
        (deploy / rel).unlink()
        os.symlink(rel.rsplit("/", 1)[-1] + ".b", deploy / rel)
        os.symlink(rel.rsplit("/", 1)[-1], deploy / (rel + ".b"))

    return make


def _edit(file: str, old: str, new: str) -> Callable[[Path, Path], None]:
    return lambda deploy, tmp: Edit(file, old, new, 1).apply(deploy)


def _append_bytes(file: str, data: bytes) -> Callable[[Path, Path], None]:
    def make(deploy: Path, tmp: Path) -> None:
        with (deploy / file).open("ab") as handle:
            handle.write(data)

    return make


def _fifo_env(deploy: Path, tmp: Path) -> None:
    (deploy / ".env").unlink()
    os.mkfifo(deploy / ".env")


def _nothing(deploy: Path, tmp: Path) -> None:
    pass


def _report_dir_is_a_file(deploy: Path, tmp: Path) -> list[str]:
    (tmp / "a-file").write_text("")
    return ["--deployment", str(deploy), "--report-dir", str(tmp / "a-file")]


MISTAKES = {
    ".env is a directory": Mistake(_replace_with_dir(".env"), "is a directory", ".env"),
    ".env is a symlink loop": Mistake(_replace_with_loop(".env"), "symbolic link loop", ".env"),
    ".env is a FIFO": Mistake(_fifo_env, "is not a regular file", ".env"),
    ".env is not UTF-8": Mistake(_append_bytes(".env", b"S3_BUCKET=l\xf6be\n"), "not UTF-8", ".env"),
    "a NUL byte in a .env value": Mistake(_append_bytes(".env", b"S3_BUCKET=lo\x00be\n"), "NUL", ".env"),
    "the compose file is a directory": Mistake(_replace_with_dir(COMPOSE), "is a directory", COMPOSE),
    "the compose file is a symlink loop": Mistake(_replace_with_loop(COMPOSE), "symbolic link loop", COMPOSE),
    "invalid UTF-8 in the compose file": Mistake(_append_bytes(COMPOSE, b"# caf\xe9\n"), "not UTF-8", COMPOSE),
    "a control character in the compose file": Mistake(
        _append_bytes(COMPOSE, b"x-note: a\x01b\n"), "is not allowed", COMPOSE
    ),
    "a NUL escape in a compose value": Mistake(
        _edit(COMPOSE, "      POSTGRES_DB: logto\n", '      POSTGRES_DB: "lo\\0gto"\n'), "NUL", COMPOSE
    ),
    "a duplicate service key": Mistake(
        _edit(COMPOSE, "\n  ollama:\n", "\n  logto-db:\n    image: postgres:17.5-bookworm\n\n  ollama:\n"),
        "mapping key 'logto-db' already defined",
        COMPOSE,
    ),
    "a duplicate environment key": Mistake(
        _edit(COMPOSE, "      POSTGRES_DB: logto\n", "      POSTGRES_DB: logto\n      POSTGRES_DB: other\n"),
        "mapping key 'POSTGRES_DB' already defined",
        COMPOSE,
    ),
    "a list as a mapping key": Mistake(_append_bytes(COMPOSE, b"? [a, b]\n: c\n"), "plain value", COMPOSE),
    "depends_on as a string": Mistake(
        _edit(COMPOSE, "depends_on:\n      minio:\n        condition: service_healthy\n", "depends_on: minio\n"),
        "depends_on: must be a list",
        COMPOSE,
    ),
    "depends_on with a string condition": Mistake(
        _edit(COMPOSE, "      minio:\n        condition: service_healthy\n", "      minio: service_healthy\n"),
        "depends_on.minio: must be a mapping",
        COMPOSE,
    ),
    "a non-numeric port target": Mistake(
        _edit(COMPOSE, '"127.0.0.1:23210:3210"', '"127.0.0.1:23210:http"'), "invalid containerPort: http", COMPOSE
    ),
    "a non-numeric port target (long syntax)": Mistake(
        _edit(COMPOSE, '      - "127.0.0.1:23210:3210"\n', "      - target: http\n        published: 23210\n"),
        "ports.[].target: failed to cast",
        COMPOSE,
    ),
    "deploy as a string": Mistake(
        _edit(COMPOSE, "    deploy:\n      resources:\n", "    deploy: gpu\n    x-resources:\n"),
        "deploy: must be a mapping",
        COMPOSE,
    ),
    "GPU capabilities as a number": Mistake(
        _edit(COMPOSE, "capabilities: [gpu]", "capabilities: 5"), "capabilities: must be a list", COMPOSE
    ),
    "an Nginx site config that is a directory": Mistake(
        _replace_with_dir("nginx/app.conf"), "is a directory", "nginx/app.conf"
    ),
    "an Nginx site config that is a symlink loop": Mistake(
        _replace_with_loop("nginx/app.conf"), "symbolic link loop", "nginx/app.conf"
    ),
    "minio/init.sh is a directory": Mistake(_replace_with_dir("minio/init.sh"), "is a directory", "minio/init.sh"),
    "--deployment naming a file": Mistake(
        _nothing, "is not a directory", ".env", args=lambda deploy, tmp: ["--deployment", str(deploy / ".env")]
    ),
    "--report-dir pointing at a file": Mistake(_nothing, "exists and is not a directory", args=_report_dir_is_a_file),
    "LOBESTACK_STACK_TIMEOUT=abc": Mistake(
        _nothing, "LOBESTACK_STACK_TIMEOUT='abc' is not a number of seconds", env={"LOBESTACK_STACK_TIMEOUT": "abc"}
    ),
    '--deployment ""': Mistake(_nothing, "--deployment is empty", args=lambda deploy, tmp: ["--deployment", ""]),
}


@pytest.mark.parametrize("case", MISTAKES, ids=list(MISTAKES))
def test_user_mistake_exits_4_with_one_line(case: str, broken_dir: Path, tmp_path: Path) -> None:
    mistake = MISTAKES[case]
    mistake.make(broken_dir, tmp_path)
    args = mistake.args(broken_dir, tmp_path)
    result = run_gate(None, tmp_path / "reports", *args, env=mistake.env)
    assert result.returncode == EXIT_BAD_INPUT, result.output[-3000:]
    assert len(result.error_lines) == 1, result.output[-3000:]
    line = result.error_lines[0]
    assert mistake.phrase in line, line
    if mistake.names is not None:
        assert str(broken_dir / mistake.names) in line, line
    assert "Traceback" not in result.output and "INTERNALERROR" not in result.output, result.output[-3000:]
