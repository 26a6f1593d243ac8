"""Where a deployment's certificates come from: a public CA (what every client trusts) or a private one (a CA of
its own, which LobeChat and Logto must be told to trust before they can call their own public URLs).

Read from what is there: the bundle's `ca/extra-ca.pem` says private; else the certificate files the TLS servers
name (ssl_certificate, resolved as Nginx resolves it), when they are readable here: a chain whose top is issued by
no CA of the system trust store is private. A file that is not readable here (Let's Encrypt's
/etc/letsencrypt/live/… on another machine) is taken as a public CA's, and said so. Certificates are public data;
keys are never opened."""

from __future__ import annotations

import ssl
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography import x509

from lobestack.deployment.nginx import NginxConfig

EXTRA_CA = "ca/extra-ca.pem"
# A certificate file larger than this is not a certificate chain: not read.
_MAX_PEM_BYTES = 256 * 1024


@dataclass(frozen=True)
class CertificateSource:
    private: bool
    why: str  # what the verdict rests on, for a finding or a skip reason


@lru_cache(maxsize=1)
def _trusted_subjects() -> tuple[x509.Name, ...]:
    context = ssl.create_default_context()
    names: list[x509.Name] = []
    for der in context.get_ca_certs(binary_form=True):
        try:
            with warnings.catch_warnings():  # a few old roots have serial numbers RFC 5280 no longer allows
                warnings.simplefilter("ignore")
                names.append(x509.load_der_x509_certificate(der).subject)
        except ValueError:
            continue
    return tuple(names)


def _chain(path: Path) -> list[x509.Certificate] | None:
    try:
        if not path.is_file() or path.stat().st_size > _MAX_PEM_BYTES:
            return None
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        return None


def certificate_source(root: Path, nginx: NginxConfig) -> CertificateSource:
    if (root / EXTRA_CA).is_file():
        return CertificateSource(True, f"{EXTRA_CA} is there (the certificates come from that CA)")
    unreadable: list[str] = []
    for server in nginx.servers:
        if not server.ssl:
            continue
        for directive in server.effective("ssl_certificate"):
            chain = _chain(nginx.path_of(directive.args[0]))
            if not chain:
                unreadable.append(directive.args[0])
                continue
            top = chain[-1]
            if not any(top.issuer == subject for subject in _trusted_subjects()):
                issuer = top.issuer.rfc4514_string()
                why = f"{directive.args[0]} ({directive.where}) is issued by {issuer}, a CA the system does not trust"
                return CertificateSource(True, why)
    if not nginx.read:
        return CertificateSource(False, "no certificate read (no Nginx config read)")
    if unreadable:
        return CertificateSource(
            False, f"{sorted(set(unreadable))[0]} is not readable here: taken as a public CA's (Let's Encrypt)"
        )
    return CertificateSource(False, "every certificate read is issued by a CA of the system trust store")
