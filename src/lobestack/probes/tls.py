"""TLS facts of one public origin, with the standard library's `ssl` (OpenSSL) and explicit protocol versions:
whether the chain verifies (system store + an extra CA), the certificate's names and expiry (parsed with
`cryptography`), and which protocol versions the server accepts.

Chosen over sslyze: these few facts need one handshake each, sslyze's scanner costs seconds per server and pulls
in its own OpenSSL build (nassl); the stdlib handshake is what Python clients of the stack themselves do."""

from __future__ import annotations

import datetime
import socket
import ssl
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from lobestack.probes import ProbeError
from lobestack.probes.budget import REQUESTS
from lobestack.probes.trust import verifying_context

VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


class TlsProbeError(ProbeError):
    """No TLS answer at all (connect refused, timeout): `str()` says which."""


@dataclass(frozen=True)
class Certificate:
    subject: str
    names: tuple[str, ...]
    not_after: datetime.datetime

    def covers(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        for name in self.names:
            name = name.lower().rstrip(".")
            if name == host:
                return True
            if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
                return True
        return False

    def days_left(self, now: datetime.datetime | None = None) -> float:
        now = now or datetime.datetime.now(datetime.UTC)
        return (self.not_after - now).total_seconds() / 86400


@dataclass(frozen=True)
class Handshake:
    certificate: Certificate
    verify_error: str | None  # None: the chain verified against the trust store
    version: str


def _connect(address: str, port: int, timeout_s: float) -> socket.socket:
    REQUESTS.count("tls")
    try:
        return socket.create_connection((address, port), timeout=timeout_s)
    except OSError as exc:
        raise TlsProbeError(f"no TCP connection to {address}:{port}: {exc.strerror or exc}") from None


def _certificate(der: bytes) -> Certificate:
    cert = x509.load_der_x509_certificate(der)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(sans.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        names = ()
    return Certificate(cert.subject.rfc4514_string(), names, cert.not_valid_after_utc)


def handshake(host: str, address: str, port: int, ca_file: Path | None, timeout_s: float = 5.0) -> Handshake:
    """Handshake with SNI `host` at `address:port`; read the leaf certificate whether or not it verifies."""
    # the name is judged on its own (Certificate.covers), not as a chain error
    verifying = verifying_context(ca_file, check_hostname=False)
    verify_error = None
    with _connect(address, port, timeout_s) as sock:
        try:
            with verifying.wrap_socket(sock, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
                version = tls.version() or "?"
        except ssl.SSLCertVerificationError as exc:
            verify_error = exc.verify_message or str(exc)
        except (ssl.SSLError, OSError) as exc:
            raise TlsProbeError(f"TLS handshake with {host} at {address}:{port} failed: {exc}") from None
    if verify_error is not None:
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        with _connect(address, port, timeout_s) as sock, unverified.wrap_socket(sock, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
            version = tls.version() or "?"
    assert der is not None
    return Handshake(_certificate(der), verify_error, version)


def accepts(host: str, address: str, port: int, version: str, timeout_s: float = 5.0) -> bool:
    """Does the server complete a handshake at exactly this protocol version? (Certificates are not judged here;
    old versions are offered with every cipher, at OpenSSL security level 0, so only the server's policy decides.)"""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # offering TLS 1.0/1.1 on purpose: to see whether the server refuses them
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = VERSIONS[version]
    if version in ("TLSv1", "TLSv1.1"):
        context.set_ciphers("ALL:@SECLEVEL=0")
    with _connect(address, port, timeout_s) as sock:
        try:
            with context.wrap_socket(sock, server_hostname=host) as tls:
                return tls.version() == version
        except TimeoutError:
            raise TlsProbeError(f"no TLS answer from {host} at {address}:{port} in {timeout_s:.0f} s") from None
        except (ssl.SSLError, OSError):
            return False
