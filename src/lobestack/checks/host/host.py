"""The server around the stack: its clock (OIDC tokens carry times), the free space Docker and the volumes live on,
and the firewall, where ufw or nftables is in use."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Recorded, Setting, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes.host import HostFacts

GROUP = Group("HOST", layer="host", title="Time, disk and firewall")


@GROUP.check(
    "HOST-TIME",
    title="the clock is synchronised (timedatectl's NTPSynchronized, else chrony's tracking)",
    fix="enable time synchronisation: `timedatectl set-ntp true` (systemd-timesyncd) or install chrony; tokens and "
    "cookies carry times, and skew breaks sign-in",
    faults=[
        fault(
            Recorded("time-timedatectl-unsynced"), expect="clock is not synchronised (timedatectl: NTPSynchronized=no"
        ),
        fault(Recorded("time-chrony-unsynced"), expect="clock is not synchronised (chronyc tracking: Leap status Not"),
        fault(
            Recorded("time-no-sync-tool"),
            expect="cannot tell whether the clock is synchronised: timedatectl cannot answer (System has not been "
            "booted with systemd",
        ),
    ],
    impact="breaks",
)
def clock(facts: HostFacts) -> Iterator[Finding]:
    sync = facts.time_sync()
    if not sync.source:
        yield Finding(f"cannot tell whether the clock is synchronised: {sync.detail}")
    elif not sync.synchronised:
        yield Finding(f"the clock is not synchronised ({sync.detail})")


@GROUP.check(
    "HOST-DISK",
    title="Docker's data root and the project's volume directories have free space above --min-free-gib and "
    "--min-free-percent",
    fix="free space (`docker system prune` removes stopped containers, unused images and build cache) or grow the "
    "filesystem; PostgreSQL and MinIO stop writing on a full disk",
    faults=[
        fault(Setting("min_free_gib", 1_000_000), expect="below --min-free-gib 1000000"),
        fault(Setting("min_free_percent", 100), expect="below --min-free-percent 100"),
    ],
    impact="breaks",
)
def disk(facts: HostFacts) -> Iterator[Finding]:
    usages = facts.disk_usage()
    ctx = facts.context
    for u in usages:
        more = f" and {len(u.paths) - 2} more" if len(u.paths) > 2 else ""
        where = f"{u.mount} (holds {', '.join(u.paths[:2])}{more})"
        if u.free_gib < ctx.min_free_gib:
            yield Finding(f"{where}: {u.free_gib:.1f} GiB free, below --min-free-gib {ctx.min_free_gib:.10g}")
        if u.free_percent < ctx.min_free_percent:
            yield Finding(f"{where}: {u.free_percent:.0f}% free, below --min-free-percent {ctx.min_free_percent:.10g}")


@GROUP.check(
    "HOST-FIREWALL",
    title="where ufw or nftables is in use, it does not open the deployment's internal ports (published or container)",
    fix="delete the rule (`ufw delete allow PORT`, or remove it from /etc/nftables.conf): internal ports are reached "
    "through Nginx only",
    faults=[
        fault(Recorded("firewall-ufw-open"), expect="ufw allows 5432 (logto-db, lobe-db): `5432/tcp"),
        fault(Recorded("firewall-nft-open"), expect="nftables accepts 25434, 25435 (logto-db, lobe-db)"),
    ],
    impact="exposure",
)
def firewall(facts: HostFacts) -> Iterator[Finding]:
    rules = facts.firewall_rules()
    internal: dict[int, list[str]] = {}
    for name, service in facts.deployment.compose.services.items():
        for b in service.ports:
            for port in (b.host_port, b.container_port):
                if port is not None and name not in internal.setdefault(port, []):
                    internal[port].append(name)
    for tool, found in rules.items():
        verb = "accepts" if tool == "nftables" else "allows"
        for rule, ports in found:
            opened = sorted(ports & set(internal))
            if opened:
                services = ", ".join(dict.fromkeys(s for port in opened for s in internal[port]))
                yield Finding(f"{tool} {verb} {', '.join(map(str, opened))} ({services}): `{rule}`")
