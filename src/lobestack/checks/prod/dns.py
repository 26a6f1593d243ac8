"""Every public name resolves. The addresses are the run's first report line (plugin/target.py resolves them
once, before any check, with the same resolver the checks use)."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Unresolvable, fault
from lobestack.checks.registry import Finding, Group
from lobestack.targets.target import Target

GROUP = Group("DNS", layer="prod", title="Public names in DNS")


@GROUP.check(
    "DNS-PUBLIC-NAMES",
    title="every public name (the hosts of APP_URL, LOGTO_ENDPOINT, LOGTO_ADMIN_ENDPOINT, S3_ENDPOINT, "
    "S3_PUBLIC_DOMAIN) resolves to at least one address",
    fix="create an A (and/or AAAA) record for each public name, pointing at the server's public address; "
    "`--resolve NAME:ADDR` pins a name for one run (a staging server, a split-horizon resolver)",
    faults=[fault(Unresolvable("s3.test"), expect="s3.test does not resolve")],
    impact="breaks",
)
def public_names(target: Target) -> Iterator[Finding]:
    for name in target.public_names():
        found = target.resolution(name)
        if not found.addresses:
            yield Finding(f"{name} does not resolve{': ' + found.error if found.error else ''}")
