"""minio/init.sh hands the keys to `mc` on its standard input, never as arguments (a value starting with '-'
was read as an option: 1 smoke run in ~64 failed); the reference stand-in `mc` reads piped keys like mc does."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

INIT_SH = REPO / "compose" / "minio" / "init.sh"
MC_STANDIN = REPO / "standins" / "minio" / "mc.py"
# What a user may put in .env (or what token_urlsafe used to generate): a leading '-', spaces, quotes, `$`.
AWKWARD_PASSWORD = "-Xk2 $HOME 'q\" pass"
AWKWARD_SECRET_KEY = "--api=S3v2 -x"

# A fake mc: records its arguments (one per line) and, for the commands that read piped keys, its stdin.
FAKE_MC = """#!/bin/sh
{ echo "ARGS"; for a in "$@"; do printf '%s\\n' "$a"; done
  case "$1 $2" in "alias set"|"admin user") echo "STDIN"; cat ;; esac
} >> "$MC_LOG"
"""


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_init_sh_pipes_keys_and_never_passes_them_as_arguments(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mc").write_text(FAKE_MC)
    (bin_dir / "mc").chmod(0o755)
    log = tmp_path / "mc.log"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "MC_LOG": str(log),
        "TMPDIR": str(tmp_path),
        "MINIO_ROOT_USER": "lobestack-root",
        "MINIO_ROOT_PASSWORD": AWKWARD_PASSWORD,
        "S3_BUCKET": "lobe",
        "S3_ACCESS_KEY_ID": "LOBEAPPKEY0123456789",
        "S3_SECRET_ACCESS_KEY": AWKWARD_SECRET_KEY,
    }
    script = (
        INIT_SH.read_text()
        .replace("/tmp/lobe-rw.json", str(tmp_path / "lobe-rw.json"))
        .replace("/tmp/lobe-read.json", str(tmp_path / "lobe-read.json"))
    )
    result = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    calls = [chunk.strip("\n").split("\n") for chunk in log.read_text().split("ARGS\n")[1:]]
    args = [call[: call.index("STDIN")] if "STDIN" in call else call for call in calls]
    stdin = {
        " ".join(a[:2]): call[call.index("STDIN") + 1 :] for a, call in zip(args, calls, strict=True) if "STDIN" in call
    }
    assert ["alias", "set", "local", "http://minio:9000"] in args
    assert stdin["alias set"] == ["lobestack-root", AWKWARD_PASSWORD]
    assert stdin["admin user"] == ["LOBEAPPKEY0123456789", AWKWARD_SECRET_KEY]
    for call in args:
        assert AWKWARD_PASSWORD not in call and AWKWARD_SECRET_KEY not in call, call
    assert ["admin", "policy", "attach", "local", "lobe-rw", "--user=LOBEAPPKEY0123456789"] in args
    assert ["anonymous", "set-json", str(tmp_path / "lobe-read.json"), "local/lobe"] in args
    from lobestack.checks.stack.s3 import READ_POLICY  # what the live faults restore

    assert (tmp_path / "lobe-read.json").read_text() == READ_POLICY
    read = json.loads(READ_POLICY)
    assert [(st["Action"], st["Resource"]) for st in read["Statement"]] == [(["s3:GetObject"], ["arn:aws:s3:::lobe/*"])]


@pytest.fixture
def mc(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("lobestack_mc_standin", MC_STANDIN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class _S3:
        def list_buckets(self) -> dict:
            return {"Buckets": []}

    monkeypatch.setattr(module, "s3_client", lambda alias: _S3())
    return module


def test_standin_reads_piped_keys_like_mc(mc: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"lobestack-root\r\n{AWKWARD_PASSWORD}\n"))
    assert mc.main(["--config-dir", str(tmp_path), "alias", "set", "local", "http://minio:9000"]) == 0
    alias = json.loads((tmp_path / "config.json").read_text())["aliases"]["local"]
    assert (alias["accessKey"], alias["secretKey"]) == ("lobestack-root", AWKWARD_PASSWORD)

    calls = []
    monkeypatch.setattr(mc, "admin_call", lambda *args, **kwargs: calls.append(args) or {})
    monkeypatch.setattr("sys.stdin", io.StringIO(f"APPKEY\n{AWKWARD_SECRET_KEY}\n"))
    assert mc.main(["--config-dir", str(tmp_path), "admin", "user", "add", "local"]) == 0
    assert calls[0][3] == {"accessKey": "APPKEY"} and calls[0][4]["secretKey"] == AWKWARD_SECRET_KEY


def test_standin_still_refuses_a_dash_key_as_an_argument(mc: ModuleType, tmp_path: Path) -> None:
    """The failure the piped keys avoid: like mc, an argument starting with '-' is taken for an option."""
    argv = ["--config-dir", str(tmp_path), "alias", "set", "local", "http://minio:9000", "root", "-Xk2pass"]
    assert mc.main(argv) == 1
