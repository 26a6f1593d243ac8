"""Settings of one run that checks read (from the command line): thresholds, not facts about the stack."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckContext:
    min_cert_days: int = 21
