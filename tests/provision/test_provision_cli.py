"""`python -m lobestack provision` without a stack: bad input is one line and exit 4, an unreachable Logto one line
and exit 1, never a traceback; MinIO's policy is judged as `mc anonymous set download` writes it. (With a stack:
tests/stack/test_provision.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lobestack.provision.minio import _public_read
from tests.conftest import REPO


def provision(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lobestack", "provision", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "the following arguments are required: --deployment"),
        (("--deployment", "no/such/dir"), "no/such/dir: deployment directory not found"),
        (("--deployment", "{healthy}", "--resolve", "auth.example.com"), "expected NAME:ADDRESS"),
        (("--deployment", "{healthy}", "--ca-file", "no/such.pem"), "no/such.pem: --ca-file: not a readable file"),
    ],
    ids=["no-deployment", "missing-dir", "bad-resolve", "missing-ca"],
)
def test_bad_input_is_one_line_and_exit_4(healthy_dir: Path, args: tuple[str, ...], says: str) -> None:
    result = provision(*(a.format(healthy=healthy_dir) for a in args))
    assert result.returncode == 4, result.stderr
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unreachable_logto_is_one_line_and_exit_1(healthy_dir: Path) -> None:
    pinned = [a for n in ("lobe", "auth", "s3") for a in ("--resolve", f"{n}.example.com:127.0.0.3")]
    result = provision("--deployment", str(healthy_dir), *pinned)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("lobestack: provision failed: cannot reach Logto's console: GET https://auth")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_public_read_is_judged_as_mc_writes_it() -> None:
    download = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": ["arn:aws:s3:::lobe/*"],
            }
        ],
    }
    assert _public_read(download, "lobe")
    assert not _public_read(download, "other")
    assert not _public_read({**download, "Statement": [{**download["Statement"][0], "Effect": "Deny"}]}, "lobe")
    assert not _public_read({}, "lobe")
