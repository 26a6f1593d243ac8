"""The check registry: every check has a stable ID, a one-line reason, a fix hint, its impact (what its findings
cost: breaks, exposure or advice), and the faults that prove it.

Checks live in one module per group, one package per layer (`checks/static/`, `checks/stack/`, …). A module
declares its group once (`GROUP = Group("NGINX", layer="static", title="Nginx policy")`) and registers its checks
with `@GROUP.check(...)`; `all_checks()` finds every module of a layer by walking its package.

A check is a function `(subject) -> Iterable[Finding]`; no finding means it passed. The subject is a Deployment
(static layer) or a Target (the live layers). Its faults (checks/faults.py) are what the project's own tests break
on purpose: on each, the check must fail with its own ID and the finding the fault names.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lobestack.checks.faults import AddFile, Edit, Fault, Pass, SetEnv, as_fault, fault, passes
from lobestack.probes import ProbeError

_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
# Layers in catalogue order; each is a package of check modules under lobestack.checks.
LAYERS = ("static", "stack", "e2e", "host", "gpu", "prod")


WARN = "warn"  # a finding that is reported but does not fail the check (e.g. a certificate renewed soon)

# What a finding costs, from least to most. Every check declares one (its group may give a default where all its
# checks are of one kind); a finding may name its own where one check finds problems of different kinds.
# `--fail-on LEVEL` fails the run on findings at LEVEL or above; those below are reported as warnings. This is a
# separate axis from WARN above: a WARN finding is a warning whatever the level (a certificate renewed soon).
ADVICE = "advice"  # it works, but off best practice or brittle: `init: true`, pinning, hygiene
EXPOSURE = "exposure"  # a security exposure: a port, a protocol, a default credential, a public bucket
BREAKS = "breaks"  # sign-in, uploads or data break (or will at the next start)
IMPACTS = (ADVICE, EXPOSURE, BREAKS)
IMPACT_MEANING = {
    BREAKS: "sign-in, uploads or data break",
    EXPOSURE: "a security exposure",
    ADVICE: "works, but off best practice or brittle",
}


def impact_rank(impact: str) -> int:
    """0 for advice … 2 for breaks: a finding fails the run when its rank is at least --fail-on's."""
    return IMPACTS.index(impact)


def _known_impact(impact: str | None, what: str) -> None:
    if impact is not None and impact not in IMPACTS:
        raise ValueError(f"{what}: impact {impact!r} is not one of {', '.join(IMPACTS)}")


@dataclass(frozen=True)
class Finding:
    """One problem: where it is (file:line, or a URL) and what was seen. A `warn` finding is reported (summary,
    junit property, Markdown) but does not fail its check. `impact` (IMPACTS) is its check's unless the finding names
    its own; the runner fills it in."""

    message: str
    where: str = ""
    severity: str = "fail"
    impact: str | None = None

    def __post_init__(self) -> None:
        _known_impact(self.impact, "finding")

    @property
    def warning(self) -> bool:
        return self.severity == WARN

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class CheckSkipped(Exception):
    """Raised by a check that cannot judge this target (e.g. its names resolve to loopback): reported skipped with
    the reason, never as a pass."""


@dataclass(frozen=True)
class Check:
    id: str
    group: Group
    title: str
    fix: str
    impact: str  # IMPACTS: what its findings cost, unless a finding names its own
    run: Callable[[Any], Iterable[Finding]]
    faults: tuple[Fault, ...] = ()
    # Healthy variants the check must accept (gixy's and KICS's negative samples next to the positive ones).
    passes: tuple[Pass, ...] = ()
    # What the target must offer (live layers): e.g. "containers" (exec, health), "host-ports" (published ports on
    # this host), "writes" (the check changes state). A target without one reports the check skipped, with why.
    needs: frozenset[str] = frozenset()
    # Checks this one replaces when both run (the prod layer judges from outside what a stack check judges from
    # one address): the replaced one is reported skipped, naming this one.
    supersedes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.impact not in IMPACTS:
            raise ValueError(f"check {self.id}: impact {self.impact!r} is not one of {', '.join(IMPACTS)}")

    @property
    def layer(self) -> str:
        return self.group.layer

    def findings(self, subject: Any) -> list[Finding]:
        """What the check finds; a probe that gets no usable answer ends the check with its error as the last
        finding (every probe error is a ProbeError), so checks need not catch it only to say it again."""
        found: list[Finding] = []
        try:
            for finding in self.run(subject):  # one by one: what was found before the error is kept
                found.append(finding)
        except ProbeError as exc:
            found.append(Finding(str(exc)))
        return found


@dataclass(frozen=True)
class Group:
    """A group of checks: the ID prefix its checks share, the layer it belongs to, its catalogue title, and the
    impact of its checks where every one is of the same kind (else each check declares its own)."""

    prefix: str
    layer: str
    title: str
    impact: str | None = None
    checks: list[Check] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        _known_impact(self.impact, f"group {self.prefix}")
        if self.layer not in LAYERS:
            raise ValueError(f"group {self.prefix}: unknown layer {self.layer!r}")
        if self.prefix in _GROUPS and _GROUPS[self.prefix] is not self:
            raise ValueError(f"group {self.prefix} declared twice")
        _GROUPS[self.prefix] = self

    def check(
        self,
        id: str,
        *,
        title: str,
        fix: str,
        faults: Iterable[Any] = (),
        passes: Iterable[Pass] = (),
        needs: Iterable[str] = (),
        supersedes: Iterable[str] = (),
        impact: str | None = None,
    ) -> Callable[[Callable[[Any], Iterable[Finding]]], Callable[[Any], Iterable[Finding]]]:
        """Register a check of this group. Each fault is a Fault, one step, or a tuple of steps applied together;
        each pass a Pass (a healthy variant the check must accept). `impact`: IMPACTS, required unless the group
        gives one."""
        if not _ID.match(id) or not id.startswith(self.prefix + "-"):
            raise ValueError(f"check id {id!r} must look like {self.prefix}-NAME")
        impact = impact or self.impact
        if impact is None:
            raise ValueError(f"check {id}: no impact declared ({', '.join(IMPACTS)}), and group {self.prefix} has none")

        def register(fn: Callable[[Any], Iterable[Finding]]) -> Callable[[Any], Iterable[Finding]]:
            if id in REGISTRY:
                raise ValueError(f"duplicate check id {id}")
            made = Check(
                id=id,
                group=self,
                title=title,
                fix=fix,
                impact=impact,
                run=fn,
                faults=tuple(as_fault(f) for f in faults),
                passes=tuple(passes),
                needs=frozenset(needs),
                supersedes=frozenset(supersedes),
            )
            REGISTRY[id] = made
            self.checks.append(made)
            return fn

        return register


REGISTRY: dict[str, Check] = {}
_GROUPS: dict[str, Group] = {}
_LOADED: set[str] = set()


def _load(layer: str) -> None:
    if layer in _LOADED:
        return
    _LOADED.add(layer)
    try:
        package = importlib.import_module(f"lobestack.checks.{layer}")
    except ModuleNotFoundError:
        return
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def groups(layer: str | None = None) -> list[Group]:
    """The declared groups of one layer (None: all), in catalogue order."""
    for name in LAYERS if layer is None else (layer,):
        _load(name)
    chosen = [g for g in _GROUPS.values() if layer is None or g.layer == layer]
    return sorted(chosen, key=lambda g: (LAYERS.index(g.layer), _ORDER.get(g.prefix, 99), g.prefix))


def all_checks(layer: str | None = "static") -> list[Check]:
    """The registered checks of one layer (None: all), in catalogue order (layer, group, then ID)."""
    return [c for g in groups(layer) for c in sorted(g.checks, key=lambda c: c.id)]


# The order groups read best in the catalogue (groups not listed come after, by name).
_ORDER = {
    "COMPOSE": 0,
    "NGINX": 1,
    "ENV": 2,
    "XREF": 3,
    "STACK": 0,
    "ROUTE": 1,
    "TLS": 2,
    "OIDC": 3,
    "LOBE": 4,
    "S3": 5,
    "DB": 6,
    "EXPOSE": 7,
    "HOST-DOCKER": 0,
    "HOST-CONTAINERS": 1,
    "HOST-PORTS": 2,
    "HOST-NGINX": 3,
    "HOST": 4,
    "GPU": 0,
    "DNS": 0,
    "OUTSIDE": 1,
    "CERT": 2,
    "CREDS": 3,
    "VERSION": 4,
    "E2E": 0,
}

__all__ = [
    "ADVICE",
    "BREAKS",
    "EXPOSURE",
    "IMPACTS",
    "LAYERS",
    "WARN",
    "AddFile",
    "Check",
    "CheckSkipped",
    "Edit",
    "Finding",
    "Group",
    "Pass",
    "SetEnv",
    "all_checks",
    "fault",
    "groups",
    "passes",
]
