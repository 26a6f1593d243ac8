"""Settings lobestack reads from the environment. Each is read when it is needed and validated where it is read;
`check_environment()` reads them all once at the start of a run, so that a bad value stops any run (the static gate
too) with one line and exit 4 instead of a traceback at import or halfway through a stack start."""

from __future__ import annotations

import math
import os

from lobestack.errors import BadInput

STACK_TIMEOUT_VAR = "LOBESTACK_STACK_TIMEOUT"
DEFAULT_STACK_TIMEOUT_S = 240.0
LOCK_TIMEOUT_VAR = "LOBESTACK_STACK_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 900.0


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= 24 * 3600:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise BadInput(f"{name}={shown!r} is not a number of seconds between 0 and 86400 (e.g. {default:.0f})")
    return value


def stack_timeout_s() -> float:
    """Seconds the ephemeral stack may take to become healthy ($LOBESTACK_STACK_TIMEOUT, default 240)."""
    return _seconds(STACK_TIMEOUT_VAR, DEFAULT_STACK_TIMEOUT_S)


def lock_timeout_s() -> float:
    """Seconds a run waits for another run's stack to release the host's ports ($LOBESTACK_STACK_LOCK_TIMEOUT, 900)."""
    return _seconds(LOCK_TIMEOUT_VAR, DEFAULT_LOCK_TIMEOUT_S)


def check_environment() -> None:
    stack_timeout_s()
    lock_timeout_s()
