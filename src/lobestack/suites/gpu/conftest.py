"""The gpu layer's run: its first line names the hosts and testinfra backends checked."""

from __future__ import annotations

import pytest

from lobestack.plugin.host import mark_layer


def pytest_configure(config: pytest.Config) -> None:
    mark_layer(config, "gpu")
