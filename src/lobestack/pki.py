"""A per-run certificate authority and server certificates for the public names (cryptography). The CA's key stays
in the run's private directory so the project's tests can reissue a certificate (expired, for the wrong name)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lobestack ephemeral CA (test only)")])
SERVER_DAYS = 90  # like an ACME certificate: well above any --min-cert-days


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, days: int = 365) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(CA_NAME)
            .issuer_name(CA_NAME)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @classmethod
    def load(cls, ca_file: Path, key_file: Path) -> CertificateAuthority:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(x509.load_pem_x509_certificate(ca_file.read_bytes()), key)

    def save(self, ca_file: Path, key_file: Path) -> None:
        ca_file.parent.mkdir(parents=True, exist_ok=True)
        ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key_file.touch(mode=0o600)
        key_file.write_bytes(_pem_key(self.key))

    def issue(
        self, out: Path, name: str, *, sans: list[str] | None = None, days: float = SERVER_DAYS, expired: bool = False
    ) -> None:
        """Write `out/fullchain.pem` and `out/privkey.pem` for `name` (SANs `sans`, default just `name`)."""
        key = ec.generate_private_key(ec.SECP256R1())
        if expired:
            not_before, not_after = _now() - datetime.timedelta(days=30), _now() - datetime.timedelta(days=1)
        else:
            not_before, not_after = _now() - datetime.timedelta(minutes=5), _now() + datetime.timedelta(days=days)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(CA_NAME)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans or [name]]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        out.mkdir(parents=True, exist_ok=True)
        (out / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (out / "privkey.pem").write_bytes(_pem_key(key))
        (out / "privkey.pem").chmod(0o644)  # read by Nginx in its container (test-only keys)


def issue(cert_dir: Path, names: list[str], ca_file: Path, key_file: Path | None = None) -> CertificateAuthority:
    """A new CA (`ca_file`, its key in `key_file` when given) and `cert_dir/<name>/{fullchain,privkey}.pem`."""
    ca = CertificateAuthority.create()
    if key_file is not None:
        ca.save(ca_file, key_file)
    else:
        ca_file.parent.mkdir(parents=True, exist_ok=True)
        ca_file.write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    for name in names:
        ca.issue(cert_dir / name, name)
    return ca
