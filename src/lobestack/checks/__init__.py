"""Static checks of a deployment directory, in four groups: compose, nginx, env, consistency."""

from lobestack.checks.registry import Check, Edit, Finding, SetEnv, all_checks, check

__all__ = ["Check", "Edit", "Finding", "SetEnv", "all_checks", "check"]
