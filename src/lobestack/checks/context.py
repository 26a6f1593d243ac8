"""Settings of one run that checks read (from the command line): thresholds, not facts about the stack."""

from __future__ import annotations

from dataclasses import dataclass

# --min-cert-days when not given: a stack run wants three weeks of margin; a prod run warns first
# (--warn-cert-days) and fails only under two weeks, so a renewal due next week is a warning, not a red night.
MIN_CERT_DAYS_STACK = 21
MIN_CERT_DAYS_PROD = 14
WARN_CERT_DAYS = 30


@dataclass(frozen=True)
class CheckContext:
    min_cert_days: int = MIN_CERT_DAYS_STACK
    warn_cert_days: int = WARN_CERT_DAYS
