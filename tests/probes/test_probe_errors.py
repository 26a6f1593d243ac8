"""One ProbeError base: every probe's error derives from it, and a check that lets one escape reports it as its
finding, after what it found before."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import lobestack.probes
from lobestack.checks import registry
from lobestack.checks.registry import Check, Finding, Group
from lobestack.probes import ProbeError
from lobestack.probes.host import HostProbeError


def test_every_probe_error_derives_from_the_base() -> None:
    errors = []
    for info in pkgutil.iter_modules(lobestack.probes.__path__):
        module = importlib.import_module(f"lobestack.probes.{info.name}")
        errors += [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == module.__name__
        ]
    assert {e.__name__ for e in errors} >= {"HttpProbeError", "OidcProbeError", "TlsProbeError", "HostProbeError"}
    assert [e.__name__ for e in errors if not issubclass(e, ProbeError)] == []


def test_an_escaping_probe_error_is_the_checks_last_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(subject: object):
        yield Finding("first problem", "a.conf:3")
        raise HostProbeError("the Docker daemon does not answer: Cannot connect")

    # a group registers itself: keep this one out of the registry the catalogue and the docs' counts read
    monkeypatch.setattr(registry, "_GROUPS", dict(registry._GROUPS))
    check = Check(
        id="TEST-PROBE", group=Group("TEST", layer="stack", title="t"), title="t", fix="f", run=run, impact="breaks"
    )
    assert [str(f) for f in check.findings(None)] == [
        "a.conf:3: first problem",
        "the Docker daemon does not answer: Cannot connect",
    ]
