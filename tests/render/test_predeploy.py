"""The pre-deploy gate's copy of a user's deployment (render/predeploy.py): the compose file and image pins kept,
every secret fresh (none of the user's reaches any file of the copy), certificates from the run's CA for the
deployment's own names, Nginx listening where the ephemeral stack's does."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from lobestack.deployment import load_deployment
from lobestack.pki import CertificateAuthority
from lobestack.render.predeploy import copy_deployment, rewrite_listens

ADDRESSES = ("127.0.0.1", "172.17.0.1")


def _copy(source: Path, out: Path) -> Path:
    copy_deployment(
        source,
        out,
        ca=CertificateAuthority.create(),
        listen_addresses=ADDRESSES,
        cert_dir_in_nginx="/etc/lobestack/certs",
        project_name="lobestack-ephemeral-test",
    )
    return out


def test_no_production_secret_reaches_the_copy(broken_dir: Path, tmp_path: Path) -> None:
    (broken_dir / ".env.bak-20250101-000000").write_text((broken_dir / ".env").read_text())
    original = load_deployment(broken_dir)
    secrets = [*original.secret_values(), original.env.get("MINIO_ROOT_USER"), original.env.get("S3_ACCESS_KEY_ID")]
    out = _copy(broken_dir, tmp_path / "copy")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p.name for p in out.rglob(".env.bak*")], "an .env backup was copied"
    leaked = sorted({p.name for p in files for s in secrets if s and s in p.read_text(errors="replace")})
    assert not leaked, f"production secrets reached {leaked}"
    copy = load_deployment(out)
    for key in ("APP_URL", "LOGTO_ENDPOINT", "LOGTO_ADMIN_ENDPOINT", "S3_ENDPOINT", "S3_BUCKET", "S3_SET_ACL"):
        assert copy.env.get(key) == original.env.get(key), key
    assert len(copy.env.get("KEY_VAULTS_SECRET")) == len(original.env.get("KEY_VAULTS_SECRET"))
    assert copy.env.get("COMPOSE_PROJECT_NAME") == "lobestack-ephemeral-test"


def test_compose_file_and_image_pins_are_kept(broken_dir: Path, tmp_path: Path) -> None:
    compose = (broken_dir / "docker-compose.yml").read_text()
    bumped = compose.replace("svhd/logto:1.37.1", "svhd/logto:1.38.0")
    (broken_dir / "docker-compose.yml").write_text(bumped)
    out = _copy(broken_dir, tmp_path / "copy")
    assert (out / "docker-compose.yml").read_text() == bumped
    assert load_deployment(out).logto.image == "svhd/logto:1.38.0"


def test_certificates_for_its_own_names_and_listens_on_the_stacks_addresses(broken_dir: Path, tmp_path: Path) -> None:
    out = _copy(broken_dir, tmp_path / "copy")
    app = (out / "nginx" / "app.conf").read_text()
    assert "listen 127.0.0.1:443 ssl http2;" in app and "listen 172.17.0.1:443 ssl http2;" in app
    assert "[::]" not in app and "listen 443" not in app
    assert "ssl_certificate /etc/lobestack/certs/lobe.example.com/fullchain.pem;" in app
    assert "/etc/letsencrypt" not in app
    for name in ("lobe.example.com", "auth.example.com", "s3.example.com"):
        cert = x509.load_pem_x509_certificate((out / "certs" / name / "fullchain.pem").read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert name in sans.get_values_for_type(x509.DNSName)
    auth = (out / "nginx" / "auth.conf").read_text()
    assert "listen 127.0.0.1:8443 ssl http2;" in auth and "listen 172.17.0.1:8443 ssl http2;" in auth
    assert (out / "ca" / "extra-ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_one_san_certificate_shared_by_every_vhost_stays_one(tmp_path: Path) -> None:
    from lobestack.render.bundle import Settings, render

    source = tmp_path / "deploy"
    render(
        Settings(
            app_domain="lobe.example.com",
            auth_domain="auth.example.com",
            s3_domain="s3.example.com",
            cert_name="example.com",
        ),
        source,
    )
    out = _copy(source, tmp_path / "copy")
    assert [p.name for p in (out / "certs").iterdir()] == ["example.com"]
    cert = x509.load_pem_x509_certificate((out / "certs" / "example.com" / "fullchain.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert set(names) == {"lobe.example.com", "auth.example.com", "s3.example.com"}


def test_listen_forms() -> None:
    text = "server {\n    listen 80;\n    listen [::]:80;\n    listen 0.0.0.0:443 ssl ipv6only=on; # x\n}\n"
    assert rewrite_listens(text, ("127.0.0.1",)) == (
        "server {\n    listen 127.0.0.1:80;\n    listen 127.0.0.1:443 ssl; # x\n}\n"
    )
