"""What `init` accepts, checked before anything is written: every refusal is a BadInput (one line, exit 4).

The values end up in places with their own syntax: Nginx directives (a `;` ends one, `{` opens a block, `#` starts
a comment), `.env` lines, Compose project names, URLs and TLS certificates. A value that would change the meaning
of the file it lands in is refused, never escaped."""

from __future__ import annotations

import ipaddress
import re
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning

from lobestack.deployment.limits import read_text
from lobestack.errors import BadInput

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Characters that end, open or comment out an Nginx directive, quote or escape in it, or start a variable.
_DIRECTIVE_BREAKERS = re.compile(r"[;{}#'\"\\$\s\x00-\x1f\x7f]")
_CERT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_CLIENT_SECRET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,255}")
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)
MAX_CA_BUNDLE_BYTES = 1024 * 1024  # Debian's whole ca-certificates.crt is about 220 KB


def hostname(option: str, value: str) -> str:
    """A fully qualified DNS name: letters, digits and hyphens in dot-separated labels, a TLD that is not all
    digits (so no IP address), nothing else (no trailing dot, space or line break)."""
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        pass
    else:
        raise BadInput(f"{option} {value!r} is an IP address; give a DNS name (certificates and URLs use it)")
    labels = value.split(".")
    if (
        len(value) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise BadInput(
            f"{option} {value!r} is not a fully qualified DNS name (e.g. lobe.example.com; letters, digits, "
            "hyphens; an internationalised name in its xn-- form)"
        )
    return value


def s3_name_for(app_domain: str) -> str:
    """The default S3 name, s3.<parent of the app name>; refused where that parent is a top-level domain."""
    parent = app_domain.split(".", 1)[1]
    if "." not in parent:
        raise BadInput(
            f"--s3-domain is needed: the parent of --app-domain {app_domain!r} is the top-level domain {parent!r}"
        )
    return f"s3.{parent}"


def nginx_path(option: str, value: str) -> str:
    """An absolute path that is one Nginx directive argument as it stands."""
    if not value.startswith("/"):
        raise BadInput(f"{option} {value!r} must be an absolute path")
    if _DIRECTIVE_BREAKERS.search(value):
        raise BadInput(
            f"{option} {value!r} holds a character that breaks an Nginx directive (; {{ }} # quotes \\ $ "
            "whitespace or a control character)"
        )
    return value


def cert_name(value: str) -> str:
    """One directory name under --cert-dir (certbot's certificate name, e.g. lobe.example.com-0001)."""
    if not _CERT_NAME.fullmatch(value) or ".." in value:
        raise BadInput(f"--cert-name {value!r} must be one directory name: letters, digits, '.', '_', '-'")
    return value


def project_name(value: str) -> str:
    if not _PROJECT_NAME.fullmatch(value):
        raise BadInput(
            f"--project-name {value!r} is not a Compose project name (lower-case letters, digits, '_', '-', "
            "starting with a letter or digit)"
        )
    return value


def logto_client(client_id: str, client_secret: str) -> None:
    if bool(client_id) != bool(client_secret):
        raise BadInput("give --logto-client-id and --logto-client-secret together")
    if client_id and not _CLIENT_ID.fullmatch(client_id):
        raise BadInput(f"--logto-client-id {client_id!r} is not a Logto application id (letters, digits, '_', '-')")
    if client_secret and not _CLIENT_SECRET.fullmatch(client_secret):
        # Never shown: it is a secret.
        raise BadInput("--logto-client-secret must be letters, digits and . _ ~ - (as Logto shows it)")


def listen_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise BadInput(f"listen address {value!r} is not an IP address") from None
    return value


def ca_bundle(path: Path) -> str:
    """The PEM text of a file that holds PEM certificates and nothing else (whitespace between them aside),
    re-encoded from the parsed certificates. A private key, another PEM block or any other text is refused, and
    never shown."""
    text = read_text(path, limit=MAX_CA_BUNDLE_BYTES, utf8=False)
    where = f"--extra-ca {path}"
    certificates: list[x509.Certificate] = []
    end = 0
    for block in _PEM_BLOCK.finditer(text):
        line = text.count("\n", 0, block.start()) + 1
        if text[end : block.start()].strip():
            raise BadInput(f"{where}: line {_first_text_line(text, end)} is not part of a PEM certificate")
        kind = block.group(1)
        if "PRIVATE KEY" in kind:
            raise BadInput(f"{where}: line {line} starts a private key; give only the CA certificate(s)")
        if kind != "CERTIFICATE":
            raise BadInput(f"{where}: line {line} starts a {kind} block; only CERTIFICATE blocks belong here")
        try:
            with warnings.catch_warnings():  # system bundles still hold a few certificates with a negative serial
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                certificates.append(x509.load_pem_x509_certificate(block.group(0).encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise BadInput(f"{where}: the certificate at line {line} does not parse") from None
        end = block.end()
    if text[end:].strip():
        raise BadInput(f"{where}: line {_first_text_line(text, end)} is not part of a PEM certificate")
    if not certificates:
        raise BadInput(f"{where}: no PEM certificate in it")
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certificates)


def _first_text_line(text: str, start: int) -> int:
    offset = start + (len(text[start:]) - len(text[start:].lstrip()))
    return text.count("\n", 0, offset) + 1
