"""The host layer: the server itself through testinfra (`--hosts local://` by default, `ssh://user@server`,
`docker://…`) against its deployment directory: Docker, the deployment's containers, ports, Nginx, time, disk and
firewall. The checks run concurrently once per host (plugin/host.py `host_results`); each test reports its own."""

from __future__ import annotations

import pytest

from lobestack.checks import Check, all_checks

pytestmark = pytest.mark.host
CHECKS = all_checks("host")


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check(check: Check, host_facts, host_results, run_check) -> None:
    run_check(check, host_facts, host_results[check.id])
