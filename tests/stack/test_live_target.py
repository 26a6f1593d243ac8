"""`--target live`: the same checks against an existing deployment, reached at its public names. Run here against
the healthy reference stack as if it were a production deployment (names pinned with --resolve, the run's CA with
--ca-file), exactly as a user runs `pytest src/lobestack/suites/stack --target live`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lobestack.checks import all_checks
from lobestack.checks.faults import Command, Fault
from lobestack.checks.stack.s3 import _MC, _SET_READ_POLICY, PROBE_PREFIX, s3_of
from lobestack.render.ephemeral import APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN, render_ephemeral
from lobestack.targets.target import CONTAINERS, HOST_PORTS, WRITES
from tests.conftest import REPO
from tests.faults import injected

NAMES = (APP_DOMAIN, AUTH_DOMAIN, S3_DOMAIN)


def run_live(deployment: Path, address: str, report_dir: Path, *extra: str, ca_file: Path | None = None):
    args = [
        sys.executable,
        "-m",
        "pytest",
        "src/lobestack/suites/stack",
        "--target",
        "live",
        "--deployment",
        str(deployment),
    ]
    args += [a for name in NAMES for a in ("--resolve", f"{name}:{address}")]
    if ca_file is not None:
        args += ["--ca-file", str(ca_file)]
    args += ["-p", "no:cacheprovider", "-q", "--report-dir", str(report_dir), "--lobestack-env", "live", *extra]
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)


def outcomes(report_dir: Path) -> dict[str, dict]:
    summary = json.loads((report_dir / "summary.json").read_text())
    return {c["id"]: c for c in summary["checks"]}


def probe_objects(stack) -> list[str]:
    """Keys under the probe prefix, listed with LobeChat's own S3 key through the public endpoint."""
    import boto3
    from botocore.config import Config

    s3 = s3_of(stack)
    client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        region_name=s3.region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    url = client.generate_presigned_url("list_objects_v2", Params={"Bucket": "lobe", "Prefix": PROBE_PREFIX + "/"})
    response = stack.http.get(url)
    assert response.status == 200, response.text
    return [part.split("</Key>")[0] for part in response.text.split("<Key>")[1:]]


def test_read_only_against_a_running_stack_passes_and_skips_what_it_cannot_do(healthy_stack, tmp_path: Path) -> None:
    result = run_live(healthy_stack.root, "127.0.0.1", tmp_path, ca_file=healthy_stack.ca_file)
    assert result.returncode == 0, result.stdout[-4000:]
    found = outcomes(tmp_path)
    by_id = {c.id: c for c in all_checks("stack")}
    for check_id, outcome in found.items():
        needs = by_id[check_id].needs
        if needs & {CONTAINERS, HOST_PORTS, WRITES} or check_id == "EXPOSE-INTERNAL-PORTS":
            assert outcome["outcome"] == "skipped", (check_id, outcome)
            assert "skipped:" in outcome["message"], outcome
        else:
            assert outcome["outcome"] == "passed", (check_id, outcome)
    assert "--allow-writes" in found["S3-ROUNDTRIP"]["message"]
    assert "lobestack live: target=live" in result.stdout
    assert probe_objects(healthy_stack) == [], "a read-only run wrote to the bucket"


def test_with_writes_a_failing_s3_check_still_removes_what_it_wrote(healthy_stack, tmp_path: Path) -> None:
    no_public_read = Fault((Command("minio", ("sh", "-c", f"{_MC} set none probe/lobe"), _SET_READ_POLICY),))
    with injected(healthy_stack, no_public_read):
        result = run_live(
            healthy_stack.root, "127.0.0.1", tmp_path, "--allow-writes", "-k", "S3", ca_file=healthy_stack.ca_file
        )
        assert probe_objects(healthy_stack) == [], "the failing check left its object behind"
    found = outcomes(tmp_path)
    assert found["S3-PUBLIC-READ"]["outcome"] == "failed", found
    assert "anonymous GET answered 403" in found["S3-PUBLIC-READ"]["message"]
    assert found["S3-ROUNDTRIP"]["outcome"] == "passed", found
    assert result.returncode == 1


@pytest.fixture
def black_hole() -> Iterator[str]:
    """127.0.0.3 on 80, 443 and 8443: connections are accepted by the kernel and never answered."""
    listeners = []
    for port in (80, 443, 8443):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.3", port))
        sock.listen(256)
        listeners.append(sock)
    try:
        yield "127.0.0.3"
    finally:
        for sock in listeners:
            sock.close()


def test_a_target_that_never_answers_gets_every_verdict_within_15_s(black_hole: str, tmp_path: Path) -> None:
    render_ephemeral(tmp_path / "deploy")
    t0 = time.monotonic()
    result = run_live(tmp_path / "deploy", black_hole, tmp_path / "reports")
    elapsed = time.monotonic() - t0
    found = outcomes(tmp_path / "reports")
    assert elapsed < 15, f"took {elapsed:.1f} s"
    assert result.returncode == 1
    assert set(found) == {c.id for c in all_checks("stack")}
    failed = [cid for cid, c in found.items() if c["outcome"] == "failed"]
    assert "TLS-CHAIN" in failed and "OIDC-DISCOVERY" in failed and "STACK-VHOST-APP" in failed, found
    assert all(c["outcome"] in ("failed", "skipped") for c in found.values()), found


def test_lobechats_own_layout_is_reached_by_its_own_urls(black_hole: str, tmp_path: Path) -> None:
    """LobeChat's published Logto example has none of the bundle's URL names: the live layer reaches it by what its
    containers get (Logto's ENDPOINT, ADMIN_ENDPOINT; LobeChat's APP_URL with its trailing slash), never an empty host
    or a double slash."""
    layout = Path(__file__).parents[1] / "data" / "layouts" / "lobechat-logto-example"
    names = ("lobe.example.com", "lobe-auth-api.example.com", "lobe-auth-ui.example.com", "lobe-s3-api.example.com")
    args = [sys.executable, "-m", "pytest", "src/lobestack/suites/stack", "--target", "live", "--deployment"]
    args += [str(layout), *(a for name in names for a in ("--resolve", f"{name}:{black_hole}"))]
    args += ["-p", "no:cacheprovider", "-q", "--report-dir", str(tmp_path), "--lobestack-env", "live"]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]
    found = outcomes(tmp_path)
    assert (
        "https://lobe-auth-api.example.com/oidc/.well-known/openid-configuration"
        in found["STACK-VHOST-AUTH"]["message"]
    )
    assert "https://lobe.example.com/api/auth/providers" in found["STACK-VHOST-APP"]["message"]
    text = result.stdout + json.dumps(found)
    assert "(via )" not in text and "No host specified" not in text
    assert "example.com//" not in text
