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
    # --- the host and gpu layers ---
    restart_window_s: float = 5.0  # restart counts are sampled twice, this far apart
    min_free_gib: float = 5.0  # free space on Docker's data root and the volume directories
    min_free_percent: float = 10.0
    allow_public_ports: tuple[int, ...] = ()  # besides 22, 80, 443 and the console port
    probe_timeout_s: float = 20.0  # every command on the host runs under `timeout`
    ollama_model: str | None = None  # warm this model up before reading /api/ps
    ollama_url: str | None = None  # default: the ollama service's published port
    gpu_image: str | None = None  # the throwaway container's image; default: the ollama service's image
    warmup_timeout_s: float = 180.0  # loading a model into GPU memory can take a while
