"""Checks, one module per group, one package per layer: static/ (the deployment directory), stack/ (a running
stack, any target); each check's faults are declared beside it (faults.py holds their kinds)."""

from lobestack.checks.faults import Edit, Fault, SetEnv, fault
from lobestack.checks.registry import Check, Finding, Group, all_checks, groups

__all__ = ["Check", "Edit", "Fault", "Finding", "Group", "SetEnv", "all_checks", "fault", "groups"]
