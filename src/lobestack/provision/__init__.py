"""Provisioning of a running deployment (`python -m lobestack provision`): Logto's applications for LobeChat through
Logto's own interfaces, written to .env; MinIO's bucket, policy and key verified. See steps.py."""

from lobestack.provision.steps import Options, ProvisionFailed, Report, describe, provision

__all__ = ["Options", "ProvisionFailed", "Report", "describe", "provision"]
