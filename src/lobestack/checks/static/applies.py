"""Where a static check applies. A check that depends on a piece the deployment does not have (an Nginx config the
gate reads, a MinIO service) says so and is reported skipped with the reason — never a finding about the piece's
absence, which is some other check's to report, or none's (LobeChat on an external S3 is a valid layout)."""

from __future__ import annotations

from lobestack.checks.registry import CheckSkipped
from lobestack.deployment import Deployment
from lobestack.deployment.compose import Service
from lobestack.deployment.nginx import NginxConfig


def nginx_of(d: Deployment) -> NginxConfig:
    """The Nginx config the gate read; a deployment behind another proxy, or without one read, skips the check."""
    if not d.nginx.read:
        raise CheckSkipped(d.nginx.not_read)
    return d.nginx


def minio_of(d: Deployment) -> Service:
    """The MinIO service; without one, LobeChat's S3 is someone else's (AWS, R2, a MinIO elsewhere)."""
    if d.minio is None:
        raise CheckSkipped("no MinIO service: LobeChat's S3 is external, its policy and CORS are the provider's")
    return d.minio


def cannot_judge(what: str, because: str) -> CheckSkipped:
    """One cause, one finding: the check cannot judge `what`, and names the check that reports why."""
    return CheckSkipped(f"cannot judge {what}: {because}")
