"""Checks, one module per group, one package per layer: static/ (the deployment directory), stack/ (a running
stack, any target), host/ (the server, through testinfra), gpu/ (its NVIDIA GPU); each check's faults are
declared beside it (faults.py holds their kinds)."""

from lobestack.checks.faults import Edit, Fault, SetEnv, fault
from lobestack.checks.registry import Check, CheckSkipped, Finding, Group, all_checks, groups

__all__ = ["Check", "CheckSkipped", "Edit", "Fault", "Finding", "Group", "SetEnv", "all_checks", "fault", "groups"]
