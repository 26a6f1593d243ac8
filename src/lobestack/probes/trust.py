"""TLS client contexts, made once per trust configuration: loading the system's CA store costs about 20 ms of CPU
each time, and a run makes hundreds of connections (the live checks' cost was mostly that, on a 2-core machine).
A context is keyed on the CA file's identity and contents stamp, so a file that changes is loaded again."""

from __future__ import annotations

import functools
import ssl
from pathlib import Path


def _stamp(ca_file: Path | None) -> tuple[str, int, int, int] | None:
    """The CA file as the context saw it, or None when there is none to load (absent or empty)."""
    if ca_file is None:
        return None
    try:
        st = ca_file.stat()
    except OSError:
        return None
    if st.st_size == 0 or not ca_file.read_text(encoding="utf-8", errors="replace").strip():
        return None
    return (str(ca_file.resolve()), st.st_ino, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=32)
def _verifying(stamp: tuple[str, int, int, int] | None, check_hostname: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = check_hostname
    if stamp is not None:
        context.load_verify_locations(cafile=stamp[0])
    return context


def verifying_context(ca_file: Path | None, *, check_hostname: bool = True) -> ssl.SSLContext:
    """The system's trust store plus `ca_file` (when it exists and is not empty). Shared: never change it."""
    return _verifying(_stamp(ca_file), check_hostname)
