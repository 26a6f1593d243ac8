"""TLS of every public origin (the app, Logto core, the admin console, S3): the chain, the name, the protocol
versions, the days left, the port-80 redirect and HSTS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from lobestack.checks.faults import Certificate, SiteEdit, fault
from lobestack.checks.registry import Finding, Group
from lobestack.deployment.model import Origin
from lobestack.probes import ProbeError, tls
from lobestack.targets.target import Target

GROUP = Group("TLS", layer="stack", title="TLS of every public origin")
ORIGIN_KEYS = ("APP_URL", "LOGTO_ENDPOINT", "LOGTO_ADMIN_ENDPOINT", "S3_ENDPOINT")
HSTS_MIN_S = 31536000


def origins(target: Target) -> list[Origin]:
    found: list[Origin] = []
    for key in ORIGIN_KEYS:
        origin = target.deployment.origin(key)
        if origin is not None and origin.scheme == "https" and origin not in found:
            found.append(origin)
    return found


def _each(target: Target, probe) -> list:
    """Run `probe(origin)` for every https origin at once; each returns a list of findings."""
    chosen = origins(target)
    with ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool:
        return [f for found in pool.map(probe, chosen) for f in found]


def _handshake(target: Target, origin: Origin) -> tls.Handshake:
    return tls.handshake(origin.host, target.address(origin.host), origin.port, target.ca_file, target.timeout_s)


@GROUP.check(
    "TLS-CHAIN",
    title="each public origin's certificate chain verifies (system trust store, plus --ca-file / the run's CA)",
    fix="serve the full chain (fullchain.pem, not cert.pem) from a CA the clients trust; a private CA must also be "
    "given to the containers (ca/extra-ca.pem)",
    faults=[fault(Certificate("s3.test", "untrusted"), expect="https://s3.test: the chain does not verify")],
    impact="breaks",
)
def chain(target: Target) -> Iterator[Finding]:
    def probe(origin: Origin) -> list[Finding]:
        try:
            shake = _handshake(target, origin)
        except tls.TlsProbeError as exc:
            return [Finding(f"{origin}: {exc}")]
        if shake.verify_error:
            return [Finding(f"{origin}: the chain does not verify: {shake.verify_error}")]
        return []

    yield from _each(target, probe)


@GROUP.check(
    "TLS-NAME",
    title="each public origin's certificate covers its name (subjectAltName)",
    fix="issue the certificate for every public name (or use a SAN/wildcard certificate: init --cert-name)",
    faults=[fault(Certificate("auth.test", "wrong-name"), expect="https://auth.test: the certificate covers")],
    impact="breaks",
)
def name(target: Target) -> Iterator[Finding]:
    def probe(origin: Origin) -> list[Finding]:
        try:
            shake = _handshake(target, origin)
        except tls.TlsProbeError as exc:
            return [Finding(f"{origin}: {exc}")]
        if not shake.certificate.covers(origin.host):
            names = ", ".join(shake.certificate.names) or "(no DNS names)"
            return [Finding(f"{origin}: the certificate covers {names}, not {origin.host}")]
        return []

    yield from _each(target, probe)


@GROUP.check(
    "TLS-PROTOCOLS",
    title="each public origin accepts TLS 1.2 and 1.3 and refuses TLS 1.0 and 1.1",
    fix="ssl_protocols TLSv1.2 TLSv1.3; (Mozilla intermediate) in every TLS server",
    faults=[
        fault(
            SiteEdit(
                "app.conf",
                "ssl_protocols TLSv1.2 TLSv1.3;",
                "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_conf_command MinProtocol TLSv1;",
            ),
            SiteEdit("app.conf", "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:", "ssl_ciphers ALL:@SECLEVEL=0:"),
            expect="https://lobe.test accepts TLSv1",
        ),
        # Nginx negotiates the protocol before SNI picks a server: the default server of 443 (app.conf, loaded
        # first) decides for every name on that port.
        fault(
            SiteEdit("app.conf", "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.3;"),
            expect="https://s3.test refuses TLSv1.2",
        ),
    ],
    impact="exposure",
)
def protocols(target: Target) -> Iterator[Finding]:
    def probe(origin: Origin) -> list[Finding]:
        address = target.address(origin.host)
        found = []
        try:
            for version in ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"):
                accepted = tls.accepts(origin.host, address, origin.port, version, target.timeout_s)
                if accepted and version in ("TLSv1", "TLSv1.1"):
                    found.append(Finding(f"{origin} accepts {version}, which must be refused"))
                elif not accepted and version in ("TLSv1.2", "TLSv1.3"):
                    found.append(Finding(f"{origin} refuses {version}, which must be accepted"))
        except tls.TlsProbeError as exc:
            return [Finding(f"{origin}: {exc}")]
        return found

    yield from _each(target, probe)


@GROUP.check(
    "TLS-EXPIRY",
    title="each public origin's certificate stays valid at least --min-cert-days more days (default 21)",
    fix="renew the certificate (certbot renew; check the renewal timer or cron) and reload Nginx",
    faults=[
        fault(Certificate("s3.test", "expires-in:5"), expect="https://s3.test: the certificate expires in 5."),
        fault(Certificate("lobe.test", "expired"), expect="https://lobe.test: the certificate expired"),
    ],
    impact="breaks",
)
def expiry(target: Target) -> Iterator[Finding]:
    minimum = target.context.min_cert_days

    def probe(origin: Origin) -> list[Finding]:
        try:
            cert = _handshake(target, origin).certificate
        except tls.TlsProbeError as exc:
            return [Finding(f"{origin}: {exc}")]
        days = cert.days_left()
        if days < 0:
            return [Finding(f"{origin}: the certificate expired {-days:.1f} days ago ({cert.not_after:%Y-%m-%d})")]
        if days < minimum:
            return [
                Finding(
                    f"{origin}: the certificate expires in {days:.1f} days ({cert.not_after:%Y-%m-%d}), "
                    f"under --min-cert-days {minimum}"
                )
            ]
        return []

    yield from _each(target, probe)


@GROUP.check(
    "TLS-REDIRECT",
    title="port 80 of each public name answers 301 to the same host and path over https",
    fix="a port-80 server per name: `return 301 https://$host$request_uri;`",
    faults=[
        fault(
            SiteEdit("s3.conf", "return 301 https://$host$request_uri;", "return 301 https://$host/;"),
            expect="http://s3.test/lobestack-probe?x=1: 301 to 'https://s3.test/'",
        ),
        fault(
            SiteEdit("app.conf", "return 301 https://$host$request_uri;", "return 302 https://$host$request_uri;"),
            expect="http://lobe.test/lobestack-probe?x=1: 302",
        ),
    ],
    impact="exposure",
)
def redirect(target: Target) -> Iterator[Finding]:
    hosts = sorted({o.host for o in origins(target)})

    def probe(host: str) -> list[Finding]:
        url = f"http://{host}/lobestack-probe?x=1"
        try:
            response = target.http.get(url)
        except ProbeError as exc:
            return [Finding(f"GET {url}: {exc}")]
        expected = f"https://{host}/lobestack-probe?x=1"
        location = response.header("location")
        if response.status != 301 or location != expected:
            return [Finding(f"{url}: {response.status} to {location!r}, expected 301 to {expected!r}")]
        return []

    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        for found in pool.map(probe, hosts):
            yield from found


_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@GROUP.check(
    "TLS-HSTS",
    title="each public origin sends one Strict-Transport-Security header, with a max-age of at least a year",
    fix='add_header Strict-Transport-Security "max-age=63072000" always; in every TLS server (and in any location '
    "that sets its own add_header: Nginx does not inherit them); where the upstream sends its own (Logto does), "
    "proxy_hide_header Strict-Transport-Security; beside it",
    faults=[
        fault(
            SiteEdit("app.conf", '    add_header Strict-Transport-Security "max-age=63072000" always;\n', ""),
            expect="https://lobe.test/: no Strict-Transport-Security",
        ),
        fault(
            SiteEdit("s3.conf", '"max-age=63072000" always;', '"max-age=86400" always;'),
            expect="https://s3.test/: Strict-Transport-Security max-age 86400",
        ),
        # Logto sends its own header (helmet's): without the bundle's proxy_hide_header it comes first and wins.
        fault(
            SiteEdit(
                "auth.conf",
                "    proxy_hide_header Strict-Transport-Security;\n\n    client_max_body_size",
                "\n    client_max_body_size",
            ),
            expect="https://auth.test/: 2 Strict-Transport-Security headers; browsers honour only the first, "
            "'max-age=15552000; includeSubDomains' (sent by the upstream service ahead of the proxy's own), "
            "max-age 15552000, under a year",
        ),
    ],
    impact="exposure",
)
def hsts(target: Target) -> Iterator[Finding]:
    def probe(origin: Origin) -> list[Finding]:
        url = f"{origin}/"
        try:
            response = target.http.get(url)
        except ProbeError as exc:
            return [Finding(f"GET {url}: {exc}")]
        headers = response.header_values("strict-transport-security")
        if not headers:
            return [Finding(f"{url}: no Strict-Transport-Security header ({response.status})")]
        # Browsers honour the first header only (RFC 6797 §8.1); an upstream's own comes before the proxy's
        # add_header, so a second header means the proxy's is ignored.
        match = _MAX_AGE.search(headers[0])
        age = int(match.group(1)) if match else 0
        short = f"max-age {age}, under a year ({HSTS_MIN_S})" if age < HSTS_MIN_S else f"max-age {age}"
        if len(headers) > 1:
            return [
                Finding(
                    f"{url}: {len(headers)} Strict-Transport-Security headers; browsers honour only the first, "
                    f"{headers[0]!r} (sent by the upstream service ahead of the proxy's own), {short}"
                )
            ]
        if age < HSTS_MIN_S:
            return [Finding(f"{url}: Strict-Transport-Security {short}")]
        return []

    yield from _each(target, probe)
