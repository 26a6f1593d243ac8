"""The static gate end to end, as users run it: exit codes, one line per problem, reports, no secrets leaked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lobestack.checks.registry import Edit, SetEnv
from lobestack.deployment import load_deployment
from lobestack.errors import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK
from tests.conftest import REPO, run_gate


def _summary(report_dir: Path) -> dict:
    return json.loads((report_dir / "summary.json").read_text())


def test_healthy_deployment_passes_with_all_reports(healthy_dir: Path, tmp_path: Path) -> None:
    result = run_gate(healthy_dir, tmp_path)
    assert result.returncode == EXIT_OK, result.stdout[-3000:]
    summary = _summary(tmp_path)
    assert set(summary) == {
        "env",
        "target",
        "deployment",
        "started",
        "duration_s",
        "fail_on",
        "counts",
        "requests",
        "addresses",
        "baseline",
        "diff",
        "checks",
    }
    assert summary["env"] == "static" and summary["target"] == "files"
    assert summary["deployment"] == str(healthy_dir)
    assert summary["counts"] == {
        "passed": len(summary["checks"]),
        **dict.fromkeys(("failed", "skipped", "error", "warned", "accepted"), 0),
    }
    assert summary["requests"]["total"] == 0, "the static gate sends nothing"
    assert {c["id"] for c in summary["checks"]} >= {"ENV-KEY-VAULTS", "XREF-ISSUER", "NGINX-HSTS"}
    for name in ("junit.xml", "report.html"):
        assert (tmp_path / name).stat().st_size > 0
    assert "lobestack static: target=files" in result.stdout


def test_broken_deployment_fails_with_id_message_and_fix(broken_dir: Path, tmp_path: Path) -> None:
    SetEnv({"KEY_VAULTS_SECRET": "c2hvcnQ="}).apply(broken_dir)
    Edit("nginx/app.conf", "    proxy_buffering off;\n", "    proxy_buffering on;\n").apply(broken_dir)
    result = run_gate(broken_dir, tmp_path)
    assert result.returncode == EXIT_CHECK_FAILED
    assert "[ENV-KEY-VAULTS] breaks: .env:" in result.stdout and "decodes to 5 bytes, not 32" in result.stdout
    assert "[NGINX-APP-STREAMING] breaks: nginx/app.conf:" in result.stdout
    failed = {c["id"]: c for c in _summary(tmp_path)["checks"] if c["outcome"] == "failed"}
    assert set(failed) == {"ENV-KEY-VAULTS", "NGINX-APP-STREAMING"}
    assert failed["ENV-KEY-VAULTS"]["fix"].startswith("set KEY_VAULTS_SECRET")
    assert "[ENV-KEY-VAULTS]" in failed["ENV-KEY-VAULTS"]["message"]


def test_default_deployment_is_rendered_for_test_domains(tmp_path: Path) -> None:
    result = run_gate(None, tmp_path)
    assert result.returncode == EXIT_OK, result.stdout[-3000:]
    assert "lobe.test" in _summary(tmp_path)["deployment"]


MALFORMED = {
    "broken YAML": ("docker-compose.yml", "services:\n", "services:\n  bad: [unclosed\n", "docker-compose.yml:"),
    "unterminated quote in .env": (".env", "S3_BUCKET=lobe\n", 'S3_BUCKET="lobe\n', ".env:"),
    "Nginx file that does not parse": ("nginx/app.conf", "    location / {\n", "    location / {{\n", "app.conf:"),
    "bad Compose expression": (
        "docker-compose.yml",
        "${COMPOSE_PROJECT_NAME:-lobestack}",
        "${COMPOSE_PROJECT_NAME",
        "docker-compose.yml:",
    ),
    # What Compose and Nginx refuse, and a naive reader would pass.
    "a key written twice": (
        "docker-compose.yml",
        "      - minio-data:/data\n",
        "      - minio-data:/data\n    volumes:\n      - minio-data:/data\n",
        "docker-compose.yml:72: mapping key 'volumes' already defined at line 70",
    ),
    "an unknown Compose key": (
        "docker-compose.yml",
        "    image: postgres:17.5-bookworm\n    init: true\n",
        "    image: postgres:17.5-bookworm\n    inti: true\n",
        "docker-compose.yml:17: services.logto-db.inti: is not a key Compose knows here",
    ),
    "an Nginx include outside the deployment": (
        "nginx/app.conf",
        "    location / {\n",
        "    location / {\n        include /etc/nginx/proxy_params;\n",
        "nginx/app.conf:37: include /etc/nginx/proxy_params: outside the deployment directory",
    ),
    "a nested location outside its parent": (
        "nginx/app.conf",
        "    location / {\n",
        "    location /a {\n        location /b { return 404; }\n    }\n    location / {\n",
        'nginx/app.conf:37: location "/b" is outside location "/a"',
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_input_exits_4_with_one_line(case: str, broken_dir: Path, tmp_path: Path) -> None:
    file, old, new, where = MALFORMED[case]
    Edit(file, old, new, 1).apply(broken_dir)
    result = run_gate(broken_dir, tmp_path)
    assert result.returncode == EXIT_BAD_INPUT, result.stdout + result.stderr
    errors = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stdout + result.stderr
    assert where in errors[0] and str(broken_dir) in errors[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_file_exits_4(broken_dir: Path, tmp_path: Path) -> None:
    (broken_dir / ".env").unlink()
    result = run_gate(broken_dir, tmp_path)
    assert result.returncode == EXIT_BAD_INPUT
    assert f"ERROR: {broken_dir / '.env'}: file not found" in result.stdout + result.stderr


def test_missing_directory_and_unknown_option_exit_4(tmp_path: Path) -> None:
    assert run_gate(tmp_path / "nope", tmp_path).returncode == EXIT_BAD_INPUT
    result = run_gate(None, tmp_path, "--no-such-option")
    assert result.returncode == EXIT_BAD_INPUT and "Traceback" not in result.stderr


def test_secrets_never_reach_reports_or_output(broken_dir: Path, tmp_path: Path) -> None:
    """A check that would print secrets (a leaky test file) still leaves none in output or report files."""
    env = dict(
        line.split("=", 1)
        for line in (broken_dir / ".env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    secrets = [env[k] for k in ("NEXT_AUTH_SECRET", "KEY_VAULTS_SECRET", "LOBE_DB_PASSWORD", "S3_SECRET_ACCESS_KEY")]
    leaky = REPO / "tests" / "data" / "leaky_check.py"
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(leaky),
            "-p",
            "no:cacheprovider",
            "-q",
            "--deployment",
            str(broken_dir),
            "--report-dir",
            str(tmp_path / "reports"),
            "--lobestack-env",
            "leak",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == EXIT_CHECK_FAILED, result.stdout
    assert "***" in result.stdout
    files = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"junit.xml", "report.html", "summary.json"}
    # Booleans only: an assertion that showed the text would itself leak the secret into this run's report.
    leaked_output = [i for i, s in enumerate(secrets) if s in result.stdout + result.stderr]
    leaked_files = sorted({p.name for p in files for s in secrets if s in p.read_text(errors="replace")})
    assert not leaked_output, f"secrets #{leaked_output} reached the terminal"
    assert not leaked_files, f"secrets reached {leaked_files}"


def _encodings(secret: str) -> dict[str, str]:
    import base64
    import html
    from urllib.parse import quote, quote_plus

    return {
        "raw": secret,
        "quote_plus": quote_plus(secret),
        "quote": quote(secret, safe=""),
        "json": json.dumps(secret)[1:-1],
        "html": html.escape(secret),
        "base64 url-safe": base64.urlsafe_b64encode(secret.encode()).decode(),
    }


def test_encoded_secrets_never_reach_reports_or_output(broken_dir: Path, tmp_path: Path) -> None:
    """Secrets with characters every encoding changes, printed, logged and asserted URL-encoded, JSON-escaped,
    HTML-escaped, in base64 and in Basic credentials (tests/data/leaky_check.py): none reaches the terminal or a
    report file, in any of those forms."""
    import base64
    import subprocess
    import sys
    from urllib.parse import quote

    secrets = {"LOBE_DB_PASSWORD": 'Zx9 kQ2/mP7"vL4é&wR8+q', "AUTH_LOGTO_SECRET": "c1 ient<secret>/é'9&x"}
    SetEnv(secrets).apply(broken_dir)
    client_id = load_deployment(broken_dir).env.get("AUTH_LOGTO_ID")
    leaky = str(REPO / "tests" / "data" / "leaky_check.py")
    options = ["--deployment", str(broken_dir), "--report-dir", str(tmp_path / "reports"), "--lobestack-env", "leak"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", leaky, "-p", "no:cacheprovider", "-q", *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == EXIT_CHECK_FAILED, result.stdout[-3000:]
    forms = {f"{key} {name}": text for key, s in secrets.items() for name, text in _encodings(s).items()}
    forms["Basic"] = base64.b64encode(
        f"{quote(client_id, safe='')}:{quote(secrets['AUTH_LOGTO_SECRET'], safe='')}".encode()
    ).decode()
    places = {"terminal": result.stdout + result.stderr}
    places |= {p.name: p.read_text(errors="replace") for p in (tmp_path / "reports").rglob("*") if p.is_file()}
    assert {"junit.xml", "report.html", "summary.json"} <= set(places)
    # Names only: an assertion that showed the text would itself leak the secret into this run's report.
    leaked = sorted(
        f"{form} in {place}" for form, text in forms.items() for place, seen in places.items() if text in seen
    )
    assert not leaked, leaked


def test_placeholder_secrets_give_readable_findings(broken_dir: Path, tmp_path: Path) -> None:
    """LobeChat's published example values are public, not secrets: the gate names them as findings, and no check ID
    or variable name loses a part to the redactor (the issue's `[ENV-***-STRENGTH]`, `LOBE_DB*** is missing`)."""
    SetEnv(
        {
            "AUTH_LOGTO_SECRET": "YOUR_LOGTO_SECRET",
            "MINIO_ROOT_PASSWORD": "YOUR_MINIO_PASSWORD",
            "NEXT_AUTH_SECRET": "NX2kaPE923dt6BL2U8e9oSre5RfoT7hg",
            "LOGTO_DB_PASSWORD": None,
        }
    ).apply(broken_dir)
    result = run_gate(broken_dir, tmp_path)
    assert result.returncode == EXIT_CHECK_FAILED, result.output[-3000:]
    out = result.stdout
    assert "AUTH_LOGTO_SECRET is a placeholder copied from LobeChat's .env.example (YOUR_LOGTO_SECRET)" in out
    assert (
        "NEXT_AUTH_SECRET is a placeholder copied from LobeChat's .env.example (NX2kaPE923dt6BL2U8e9oSre5RfoT7hg)"
        in out
    )
    assert "MINIO_ROOT_PASSWORD is a placeholder copied from LobeChat's example docker-compose.yml" in out
    assert "[ENV-SECRET-STRENGTH] exposure: .env:" in out
    assert "required variable LOGTO_DB_PASSWORD is missing a value: set LOGTO_DB_PASSWORD in .env" in out
    assert not re.search(r"[\w-]\*\*\*|\*\*\*[\w-]", out), "a mask inside a word"
    summary = _summary(tmp_path)
    failed = {c["id"] for c in summary["checks"] if c["outcome"] == "failed"}
    assert {"ENV-SECRET-STRENGTH", "ENV-REQUIRED"} <= failed
    for check in summary["checks"]:
        assert "***" not in check["id"] and not re.search(r"[\w-]\*\*\*|\*\*\*[\w-]", check["message"]), check
