"""`lobestack init`: a complete deployment with fresh secrets, that never loses an existing .env, and that real
Nginx accepts."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lobestack.deployment import load_deployment
from lobestack.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.conftest import REPO


def init(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lobestack", "init", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_renders_complete_directory(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    result = init("--app-domain", "lobe.example.org", "--auth-domain", "auth.example.org", "--out", str(out))
    assert result.returncode == EXIT_OK, result.stderr
    for rel in (
        "docker-compose.yml",
        ".env",
        "nginx/app.conf",
        "nginx/auth.conf",
        "nginx/s3.conf",
        "minio/init.sh",
        "ca/extra-ca.pem",
    ):
        assert (out / rel).is_file(), rel
    assert (out / ".env").stat().st_mode & 0o077 == 0, ".env must be private to its owner"
    d = load_deployment(out)
    assert d.env.get("S3_ENDPOINT") == "https://s3.example.org"
    assert d.env.get("LOGTO_ADMIN_ENDPOINT") == "https://auth.example.org:8443"
    assert len(base64.b64decode(d.env.get("KEY_VAULTS_SECRET"))) == 32
    assert "lobe.example.org" in d.nginx.servers_for("lobe.example.org")[0].names


def test_secrets_are_fresh_each_time(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        assert (
            init("--app-domain", "lobe.example.org", "--auth-domain", "auth.example.org", "--out", str(out)).returncode
            == 0
        )
    env_a, env_b = load_deployment(a).env, load_deployment(b).env
    for key in (
        "NEXT_AUTH_SECRET",
        "KEY_VAULTS_SECRET",
        "LOBE_DB_PASSWORD",
        "MINIO_ROOT_PASSWORD",
        "S3_SECRET_ACCESS_KEY",
    ):
        assert env_a.get(key) and env_a.get(key) != env_b.get(key), key


def test_refuses_to_overwrite_env_and_force_keeps_a_backup(tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    args = ("--app-domain", "lobe.example.org", "--auth-domain", "auth.example.org", "--out", str(out))
    assert init(*args).returncode == EXIT_OK
    before = (out / ".env").read_text()
    refused = init(*args)
    assert refused.returncode == EXIT_BAD_INPUT
    assert refused.stderr.strip().count("\n") == 0 and "--force" in refused.stderr
    assert (out / ".env").read_text() == before
    assert init(*args, "--force").returncode == EXIT_OK
    backups = list(out.glob(".env.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == before
    assert (out / ".env").read_text() != before


APP = ("--app-domain", "lobe.example.org", "--auth-domain", "auth.example.org")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("--app-domain", "not a domain", "--auth-domain", "auth.example.org"), "not a fully qualified DNS name"),
        (("--app-domain", "lobe.example.org\n", "--auth-domain", "auth.example.org"), "not a fully qualified"),
        (("--app-domain", "lobe.example.org", "--auth-domain", "auth.example.org\nx"), "not a fully qualified"),
        (("--app-domain", "10.0.0.1", "--auth-domain", "auth.example.org"), "is an IP address"),
        (("--app-domain", "lobe.example.org", "--auth-domain", "[::1]"), "is an IP address"),
        (("--app-domain", "example.org", "--auth-domain", "auth.example.org"), "--s3-domain is needed"),
        ((*APP, "--s3-domain", "s3.example.org."), "not a fully qualified"),
        (("--app-domain", "lobe.example.org", "--auth-domain", "lobe.example.org"), "three different names"),
        ((*APP, "--admin-port", "443"), "--admin-port 443"),
        ((*APP, "--admin-port", "https"), "invalid int value"),
        ((*APP, "--logto-client-id", "x"), "together"),
        ((*APP, "--logto-client-id", "a b", "--logto-client-secret", "Zq8sK2mN4pL6rT1v"), "application id"),
        ((*APP, "--logto-client-id", "abc", "--logto-client-secret=-Zq8$K2mN4pL6rT1v"), "letters, digits"),
        ((*APP, "--cert-dir", "/x; include /etc/passwd; #"), "breaks an Nginx directive"),
        ((*APP, "--cert-dir", "/etc/le}tsencrypt"), "breaks an Nginx directive"),
        ((*APP, "--cert-dir", "/etc/lets encrypt"), "breaks an Nginx directive"),
        ((*APP, "--cert-dir", "/etc/live\n"), "breaks an Nginx directive"),
        ((*APP, "--cert-dir", "certs"), "absolute path"),
        ((*APP, "--cert-name", "lobe;x"), "one directory name"),
        ((*APP, "--cert-name", "../../etc"), "one directory name"),
        ((*APP, "--project-name", "Lobe Stack"), "Compose project name"),
        ((*APP, "--extra-ca", "/nonexistent/ca.pem"), "file not found"),
        (("--app-domain", "lobe.example.org"), "required"),
        ((*APP, "--bogus"), "unrecognized arguments"),
    ],
)
def test_bad_input_is_one_line_and_exit_4(args: tuple[str, ...], phrase: str, tmp_path: Path) -> None:
    result = init(*args, "--out", str(tmp_path / "d"))
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert result.stderr.startswith("lobestack: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert phrase in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "d").exists()
    assert not list(tmp_path.glob(".d.lobestack-*"))


def test_empty_out_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lobestack", "init", *APP, "--out", ""],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == EXIT_BAD_INPUT and "--out is empty" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _ca(tmp_path: Path) -> tuple[Path, Path]:
    """A CA certificate and a server key issued by the project's own CA code."""
    from lobestack.pki import issue

    issue(tmp_path / "live", ["lobe.example.org"], tmp_path / "ca.pem")
    return tmp_path / "ca.pem", tmp_path / "live" / "lobe.example.org" / "privkey.pem"


def test_extra_ca_takes_pem_certificates_only(tmp_path: Path) -> None:
    ca, key = _ca(tmp_path)
    key_text = key.read_text()
    cases = {
        "key.pem": (ca.read_text() + key_text, "starts a private key"),
        "text.pem": ("root:x:0:0::/root:/bin/sh\n", "line 1 is not part of a PEM certificate"),
        "trailing.pem": (ca.read_text() + "# a comment\n", "is not part of a PEM certificate"),
        "csr.pem": ("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n", "REQUEST block"),
        "broken.pem": ("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "does not parse"),
        "empty.pem": ("\n", "no PEM certificate"),
    }
    for name, (text, phrase) in cases.items():
        (tmp_path / name).write_text(text)
        result = init(*APP, "--extra-ca", str(tmp_path / name), "--out", str(tmp_path / name / "d"))
        assert result.returncode == EXIT_BAD_INPUT and phrase in result.stderr, (name, result.stderr)
        assert result.stderr.count("\n") == 1
        assert not any(line in result.stderr for line in key_text.splitlines()[1:-1]), "key material shown"
    (tmp_path / "bundle.pem").write_text(ca.read_text() + "\n" + ca.read_text())
    out = tmp_path / "ok"
    assert init(*APP, "--extra-ca", str(tmp_path / "bundle.pem"), "--out", str(out)).returncode == EXIT_OK
    written = (out / "ca" / "extra-ca.pem").read_text()
    assert written.count("BEGIN CERTIFICATE") == 2 and "PRIVATE" not in written


def test_a_failure_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from lobestack.render.bundle import render
    from tests.conftest import HEALTHY

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    out = tmp_path / "new"
    monkeypatch.setattr(os, "rename", fail)
    with pytest.raises(OSError):
        render(HEALTHY, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no directory, no staging left behind

    monkeypatch.undo()
    render(HEALTHY, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        render(HEALTHY, out, force=True)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and ".env.bak-" not in p.name}
    assert after == before
    assert not list(out.glob(".new.lobestack-*"))


def test_output_modes_and_every_backup_kept(tmp_path: Path) -> None:
    import stat

    out = tmp_path / "deploy"
    args = (*APP, "--out", str(out))
    assert init(*args).returncode == EXIT_OK
    assert stat.S_IMODE(out.stat().st_mode) == 0o755  # made private while written, opened up once complete
    assert stat.S_IMODE((out / ".env").stat().st_mode) == 0o600
    first = (out / ".env").read_text()
    assert init(*args, "--force").returncode == EXIT_OK
    second = (out / ".env").read_text()
    assert init(*args, "--force").returncode == EXIT_OK  # within the same second, most likely: both backups kept
    backups = sorted(p.read_text() for p in out.glob(".env.bak-*"))
    assert backups == sorted([first, second])


@pytest.mark.skipif(
    shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
    reason="nginx is not installed (scripts/setup-host installs it)",
)
def test_real_nginx_accepts_the_rendered_sites(healthy_dir: Path, tmp_path: Path) -> None:
    """`nginx -t` on the rendered site files inside a minimal main config, with throwaway certificates."""
    from lobestack.pki import issue

    certs = tmp_path / "live"
    issue(certs, ["lobe.example.com", "auth.example.com", "s3.example.com"], tmp_path / "ca.pem")
    sites = tmp_path / "sites"
    sites.mkdir()
    for conf in (healthy_dir / "nginx").glob("*.conf"):
        text = conf.read_text().replace("/etc/letsencrypt/live", str(certs))
        (sites / conf.name).write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/tmp;\n  include {sites}/*.conf;\n}}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run(
        [nginx, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_generated_secrets_are_safe_for_every_consumer() -> None:
    """Letters and digits (KEY_VAULTS_SECRET: base64 without + or /), never a leading '-': unchanged in URL user
    info, as a shell word, through Compose interpolation, as an mc argument, bare in .env."""
    import math
    import shlex
    import string

    from lobestack.checks.static.env import _USERINFO_SAFE
    from lobestack.deployment.envfile import format_env_line
    from lobestack.deployment.interpolation import interpolate
    from lobestack.render import secrets as fresh

    alnum = set(string.ascii_letters + string.digits)
    for _ in range(200):
        for key, value in fresh.generate().items():
            body = value.removesuffix("=") if key == "KEY_VAULTS_SECRET" else value.replace("-", "")
            assert set(body) <= alnum, key
            assert not value.startswith("-"), key
            assert set(value) <= _USERINFO_SAFE, key
            assert shlex.quote(value) == value, key
            assert interpolate(value, {}) == value, key
            assert format_env_line(key, value) == f"{key}={value}", key
        assert len(base64.b64decode(fresh.key_vaults_secret(), validate=True)) == 32
    # At least the entropy of the URL-safe tokens they replace (token_urlsafe(32): 256 bits, (24): 192 bits).
    assert len(fresh.token(256)) * math.log2(62) >= 256
    assert len(fresh.token(192)) * math.log2(62) >= 192
