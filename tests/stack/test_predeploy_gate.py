"""The pre-deploy gate as users run it: `tox -e smoke -- --deployment DIR` on an edited copy of a rendered
deployment (example.com names, a Logto client) runs the static gate on DIR, brings the stack up from DIR (its
compose file, Nginx sites and image pins; fresh secrets, a per-run CA) and runs the live layer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lobestack.checks import all_checks
from lobestack.checks.faults import Edit
from tests.conftest import REPO, run_gate

# Someone locks the S3 vhost to the office network: presigned uploads and file links break for everyone else. The
# static gate has no rule against it; the live layer sees it at once.
S3_LOCKED = Edit("nginx/s3.conf", "    location / {\n", "    allow 10.0.0.0/8;\n    deny all;\n\n    location / {\n")
HARMLESS = Edit(
    "nginx/app.conf",
    "    client_max_body_size 100m;\n",
    "    # uploads of long recordings\n    client_max_body_size 200m;\n",
)


# A service whose image was never built nor can be pulled (no registry on the CI host): `up` fails at once.
MISSING_IMAGE = Edit(
    "docker-compose.yml",
    "\nnetworks:\n  internal: {}\n",
    "\n  cache:\n    image: lobestack-missing/never-built:0\n    init: true\n    restart: unless-stopped\n"
    '    networks: [internal]\n    healthcheck:\n      test: ["CMD", "true"]\n      interval: 5s\n'
    "\nnetworks:\n  internal: {}\n",
)


def smoke(deployment: Path, report_dir: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, dict]]:
    args = [
        sys.executable,
        "-m",
        "pytest",
        "src/lobestack/suites/static",
        "src/lobestack/suites/stack",
        "--target",
        "compose",
    ]
    args += ["--images", "standin", "--deployment", str(deployment), "-p", "no:cacheprovider", "-q"]
    args += ["--report-dir", str(report_dir), "--lobestack-env", "smoke"]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    summary = json.loads((report_dir / "summary.json").read_text())
    return result, {c["id"]: c for c in summary["checks"]}


def test_a_broken_vhost_fails_live_with_its_id(standin_set: None, broken_dir: Path, tmp_path: Path) -> None:
    S3_LOCKED.apply(broken_dir)
    result, checks = smoke(broken_dir, tmp_path)
    assert result.returncode == 1, result.stdout[-3000:]
    static = {cid: c for cid, c in checks.items() if c["id"].split("-")[0] in ("COMPOSE", "NGINX", "ENV", "XREF")}
    assert static and all(c["outcome"] == "passed" for c in static.values()), "the static gate cannot see this one"
    assert checks["STACK-VHOST-S3"]["outcome"] == "failed", checks["STACK-VHOST-S3"]
    assert "/minio/health/live: 403" in checks["STACK-VHOST-S3"]["message"]
    assert checks["STACK-VHOST-APP"]["outcome"] == "passed"


def test_a_harmless_edit_passes(standin_set: None, broken_dir: Path, tmp_path: Path) -> None:
    HARMLESS.apply(broken_dir)
    result, checks = smoke(broken_dir, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert {c["outcome"] for c in checks.values()} == {"passed"}, checks
    assert len(checks) >= 43 + 28
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert str(broken_dir) in summary["deployment"] and "fresh secrets" in summary["deployment"]


def test_a_stack_that_cannot_start_is_one_failure_and_the_static_verdict_stands(
    standin_set: None, broken_dir: Path, tmp_path: Path
) -> None:
    """The stack cannot start: STACK-START is the one failure, reported once; every live check is reported not run,
    with its ID; the static checks judge the directory on their own, exactly as the static gate alone does."""
    MISSING_IMAGE.apply(broken_dir)
    alone = run_gate(broken_dir, tmp_path / "static")
    static = {c["id"]: c["outcome"] for c in json.loads((tmp_path / "static" / "summary.json").read_text())["checks"]}
    assert static and "error" not in static.values(), alone.output[-3000:]
    result, checks = smoke(broken_dir, tmp_path / "gate")
    assert result.returncode == 1, result.stdout[-3000:]
    assert {cid: checks[cid]["outcome"] for cid in static} == static
    live = {c.id for c in all_checks("stack")}
    assert {cid: c["outcome"] for cid, c in checks.items() if cid in live} == dict.fromkeys(live, "skipped")
    assert all("not run: the stack did not start (STACK-START)" in checks[cid]["message"] for cid in live)
    failing = {cid: c for cid, c in checks.items() if c["outcome"] in ("failed", "error")}
    assert set(failing) <= {*static, "STACK-START"}
    assert {cid for cid in failing if cid not in static} == {"STACK-START"}
    assert checks["STACK-START"]["outcome"] == "failed"
    message = checks["STACK-START"]["message"]
    assert "[STACK-START] service cache: `docker compose up` failed (image lobestack-missing/never-built:0)" in message
    assert sum("[STACK-START]" in c["message"] for c in checks.values()) == 1
