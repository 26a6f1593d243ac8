"""How the host and gpu checks are run on their faults: a fault's steps say which host (the local machine, or a
recorded one), which deployment directory (the stack's, or a copy with static edits), which settings, and what to
change in the running stack while the check looks."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import testinfra

from lobestack.checks.faults import LIVE_STEPS, Edit, Fault, Recorded, SetEnv, Setting
from lobestack.context import CheckContext
from lobestack.deployment import load_deployment
from lobestack.errors import BadInput
from lobestack.probes.host import HostFacts
from tests.faults import apply_static, injected
from tests.host.recorded import recorded_host


def recorded(fault: Fault) -> str | None:
    return next((s.name for s in fault.steps if isinstance(s, Recorded)), None)


def is_live(fault: Fault) -> bool:
    return recorded(fault) is None


def with_settings(context: CheckContext, fault: Fault) -> CheckContext:
    return dataclasses.replace(context, **{s.name: s.value for s in fault.steps if isinstance(s, Setting)})


def deployment_for(fault: Fault, root: Path, scratch: Path) -> Any:
    """The deployment the check reads: `root`, or a copy of it with the fault's static edits."""
    static = [s for s in fault.steps if isinstance(s, SetEnv | Edit)]
    if not static:
        return load_deployment(root)
    copy = scratch / "deploy"
    shutil.copytree(root, copy)
    apply_static(Fault(tuple(static)), copy)
    return load_deployment(copy)


@contextlib.contextmanager
def on_fault(
    fault: Fault, *, root: Path, scratch: Path, context: CheckContext, stack: Any = None
) -> Iterator[HostFacts]:
    """The facts a check reads with `fault` in place; the running stack is restored afterwards."""
    name = recorded(fault)
    host = recorded_host(name) if name else testinfra.get_host("local://")
    live = tuple(s for s in fault.steps if isinstance(s, LIVE_STEPS))
    if live and stack is None:
        raise AssertionError(f"{fault} changes a running stack; none given")
    with injected(stack, Fault(live)) if live else contextlib.nullcontext():
        try:
            deployment = deployment_for(fault, stack.root if live else root, scratch)
        except BadInput:
            # the fault breaks a site on purpose (`nginx -t` must fail): the check judges the running Nginx, and
            # reads the stack's last good model of the files
            deployment = stack.deployment
        yield HostFacts(host, deployment, with_settings(context, fault))
