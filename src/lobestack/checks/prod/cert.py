"""Certificate lifetime from outside, in two stages, on every address of every public origin (behind DNS
round-robin or two servers, one may still serve last quarter's certificate)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lobestack.checks.faults import Certificate, fault
from lobestack.checks.registry import WARN, Finding, Group
from lobestack.checks.stack.tls import origins
from lobestack.probes import tls
from lobestack.targets.target import Target

GROUP = Group("CERT", layer="prod", title="Certificate lifetime")


@GROUP.check(
    "CERT-EXPIRY",
    title="every public origin's certificate, on each address its name resolves to, stays valid at least "
    "--min-cert-days (prod: 14) more days; under --warn-cert-days (30) it is reported as a warning, not a failure",
    fix="renew the certificate (certbot renew; check the renewal timer or cron), reload Nginx on every server; a "
    "warning says the renewal has not happened yet when it usually would have",
    faults=[
        fault(
            Certificate("s3.test", "expires-in:5"), expect="https://s3.test at 127.0.0.1: the certificate expires in 5."
        ),
        fault(
            Certificate("lobe.test", "expires-in:20"),
            expect="https://lobe.test at 127.0.0.1: the certificate expires in 20.",
            warns=True,
        ),
    ],
    supersedes=["TLS-EXPIRY"],
    impact="breaks",
)
def expiry(target: Target) -> Iterator[Finding]:
    minimum, warn = target.context.min_cert_days, target.context.warn_cert_days
    probes = [(origin, address) for origin in origins(target) for address in target.resolution(origin.host).addresses]

    def probe(pair: tuple[Any, str]) -> Finding | None:
        origin, address = pair
        where = f"{origin} at {address}"
        try:
            cert = tls.handshake(origin.host, address, origin.port, target.ca_file, target.timeout_s).certificate
        except tls.TlsProbeError as exc:
            return Finding(f"{where}: {exc}")
        days = cert.days_left()
        if days < 0:
            return Finding(f"{where}: the certificate expired {-days:.1f} days ago ({cert.not_after:%Y-%m-%d})")
        if days < minimum:
            return Finding(
                f"{where}: the certificate expires in {days:.1f} days ({cert.not_after:%Y-%m-%d}), under "
                f"--min-cert-days {minimum}"
            )
        if days < warn:
            return Finding(
                f"{where}: the certificate expires in {days:.1f} days ({cert.not_after:%Y-%m-%d}), under "
                f"--warn-cert-days {warn}",
                severity=WARN,
            )
        return None

    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        for found in pool.map(probe, probes):
            if found is not None:
                yield found
