"""The Docker engine: the daemon answers, Compose v2 is there, and the nvidia runtime is registered where the
deployment runs the gpu profile."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lobestack.checks.faults import Recorded, SetEnv, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes.host import HostFacts, HostProbeError

GROUP = Group("HOST-DOCKER", layer="host", title="Docker engine")


@GROUP.check(
    "HOST-DOCKER-DAEMON",
    title="the Docker daemon answers (`docker info`)",
    fix="start the daemon (`systemctl start docker`) and read `journalctl -u docker`; a user that is not root needs "
    "the docker group (or run with --sudo)",
    faults=[
        fault(Recorded("docker-daemon-down"), expect="the Docker daemon does not answer: Cannot connect"),
        fault(Recorded("no-docker"), expect="the docker CLI is not installed"),
    ],
    impact="breaks",
)
def daemon(facts: HostFacts) -> Iterator[Finding]:
    facts.docker_info()  # no answer is its HostProbeError: the check's finding (Check.findings)
    yield from ()


@GROUP.check(
    "HOST-DOCKER-COMPOSE",
    title="Compose v2 is installed (`docker compose version`, the plugin; v1 `docker-compose` cannot run the bundle)",
    fix="install the Compose v2 plugin (Debian/Ubuntu: `docker-compose-plugin` from Docker's repository, or Debian "
    "13's `docker-compose`)",
    faults=[
        fault(
            Recorded("compose-missing"),
            expect="`docker compose version` failed: docker: 'compose' is not a docker command",
        )
    ],
    impact="breaks",
)
def compose(facts: HostFacts) -> Iterator[Finding]:
    text = facts.compose_version()
    match = re.search(r"v?(\d+)\.(\d+)", text)
    if not match or int(match.group(1)) < 2:
        yield Finding(f"Compose v2 is needed; `docker compose version` says {text!r}")


@GROUP.check(
    "HOST-DOCKER-NVIDIA",
    title="the nvidia runtime is registered in Docker when the deployment uses the gpu profile",
    fix="install the NVIDIA Container Toolkit and register it: `nvidia-ctk runtime configure --runtime=docker` then "
    "restart Docker",
    faults=[
        fault(
            SetEnv({"OLLAMA_PROXY_URL": "http://ollama:11434"}),
            expect="uses the gpu profile (OLLAMA_PROXY_URL=http://ollama:11434) but Docker has no nvidia runtime",
        ),
        fault(Recorded("driver-no-toolkit"), expect="Docker has no nvidia runtime"),
    ],
    impact="breaks",
)
def nvidia_runtime(facts: HostFacts) -> Iterator[Finding]:
    why = facts.uses_gpu_profile()
    if why is None:
        return
    try:
        info = facts.docker_info()
    except HostProbeError as exc:
        yield Finding(f"the deployment uses the gpu profile ({why}), and {exc}")
        return
    if "nvidia" not in info.runtimes:
        yield Finding(
            f"the deployment uses the gpu profile ({why}) but Docker has no nvidia runtime "
            f"(runtimes: {', '.join(info.runtimes) or 'none'})"
        )
