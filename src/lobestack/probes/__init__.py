"""Protocol clients that gather facts from a running stack. They return data or raise a ProbeError; suites assert."""

from __future__ import annotations


class ProbeError(Exception):
    """A probe got no usable answer. `str()` is the finding: what was asked, of whom, and what came back. Every
    probe's error derives from it, and a check that lets one escape reports it as its finding (Check.findings)."""
