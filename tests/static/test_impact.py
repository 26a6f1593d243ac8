"""Every check declares its impact (breaks, exposure, advice) beside it, or its group does for all of its checks;
a finding carries its check's impact unless it names its own."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import pytest

from lobestack.checks import registry
from lobestack.checks.registry import BREAKS, EXPOSURE, IMPACTS, LAYERS, Finding, Group, all_checks
from lobestack.checks.runner import evaluate


@pytest.fixture
def scratch_registry() -> Iterator[None]:
    """Groups and checks declared by a test leave the registry as they found it."""
    groups, checks = dict(registry._GROUPS), dict(registry.REGISTRY)
    yield
    registry._GROUPS.clear()
    registry._GROUPS.update(groups)
    registry.REGISTRY.clear()
    registry.REGISTRY.update(checks)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_check_declares_its_impact(layer: str) -> None:
    checks = all_checks(layer)
    assert checks
    for check in checks:
        assert check.impact in IMPACTS, check.id
        # Declared, never defaulted: in the check's own decorator, or in its group's declaration.
        decorator = inspect.getsource(check.run).split("\ndef ", 1)[0]
        module = inspect.getsource(inspect.getmodule(check.run))
        group_line = re.search(r"^GROUP = Group\((.*?)\)$", module, re.S | re.M).group(1)
        assert f'impact="{check.impact}"' in decorator or (
            f'impact="{check.impact}"' in group_line and "impact=" not in decorator
        ), f"{check.id}: no impact declared beside it"


def test_a_check_without_an_impact_is_refused(scratch_registry: None) -> None:
    group = Group("IMPACTTEST", layer="static", title="t")
    with pytest.raises(ValueError, match="IMPACTTEST-NONE: no impact declared"):
        group.check("IMPACTTEST-NONE", title="t", fix="f")(lambda d: iter(()))
    with pytest.raises(ValueError, match="impact 'fatal' is not one of advice, exposure, breaks"):
        group.check("IMPACTTEST-BAD", title="t", fix="f", impact="fatal")(lambda d: iter(()))
    with pytest.raises(ValueError, match="finding: impact 'high'"):
        Finding("x", impact="high")
    with pytest.raises(ValueError, match="group IMPACTTEST2: impact 'x'"):
        Group("IMPACTTEST2", layer="static", title="t", impact="x")


def test_a_finding_keeps_its_own_impact_and_takes_its_checks_otherwise(scratch_registry: None) -> None:
    group = Group("IMPACTMIX", layer="static", title="t", impact=BREAKS)

    def mixed(_subject: object):
        yield Finding("uploads fail")
        yield Finding("the bucket is public", impact=EXPOSURE)

    group.check("IMPACTMIX-S3", title="t", fix="f")(mixed)
    check = group.checks[0]
    assert check.impact == BREAKS
    assert [f.impact for f in evaluate(check, object()).findings] == [BREAKS, EXPOSURE]
