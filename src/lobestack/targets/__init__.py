"""Where the stack under test comes from. Targets are a small registry of names to modules, each behind one
interface (targets/target.py: how to reach a name, what the target can do), as testinfra does with its backends:
a new target (ssh, …) is one module and one line here, not another branch in the fixtures.

- `compose`: an ephemeral stack in testcontainers, rendered now (targets/compose.py);
- `live`: an existing deployment at its public URLs (targets/live.py);
- `files` (FILES): no running stack, the deployment's files only (the static gate).

The registry owns these names: `--target` offers NAMES, and the rest of lobestack asks a target class what it can
do (Target.ephemeral, Target.resolves_names), never which name it has."""

from __future__ import annotations

import importlib

TARGETS = {
    "compose": "lobestack.targets.compose:EphemeralStack",
    "live": "lobestack.targets.live:LiveTarget",
}


# The extra of `pip install lobestack` a target's module needs (lobestack/extras.py).
EXTRA = {"compose": "stack"}
FILES = "files"
DEFAULT = "compose"  # a run whose checks need a stack, without --target
NAMES = (FILES, *TARGETS)


def require_extra(name: str) -> None:
    """BadInput, in one line naming the extra, when the target's tools are not installed."""
    from lobestack.extras import require

    if name in EXTRA:
        require(EXTRA[name])


def target_class(name: str) -> type:
    require_extra(name)
    module, _, attr = TARGETS[name].partition(":")
    return getattr(importlib.import_module(module), attr)
