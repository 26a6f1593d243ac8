"""The host and gpu checks on recorded hosts (tests/data/hosts/): every fault that names a recording fails its check
with its own ID and the finding it names; the healthy recordings pass — the GPU servers (H100, H200) for every gpu
check, and the states the CI machine cannot show healthy (a synchronised clock, a firewall in use, Nginx on the
host). A host without a driver gets exactly one finding per gpu check, the same sentence each time."""

from __future__ import annotations

from pathlib import Path

import pytest

from lobestack.checks import Check, all_checks
from lobestack.checks.faults import LIVE_STEPS, Edit, Recorded, SetEnv, Setting
from lobestack.checks.registry import CheckSkipped
from lobestack.context import CheckContext
from lobestack.deployment import load_deployment
from lobestack.probes.gpu import NO_DRIVER
from lobestack.probes.host import HostFacts
from tests.host import recorded as recordings
from tests.host.harness import on_fault, recorded

CHECKS = all_checks("host") + all_checks("gpu")
GPU_CHECKS = all_checks("gpu")
RECORDED = [
    pytest.param(c, i, id=f"{c.id}#{i}") for c in CHECKS for i, f in enumerate(c.faults) if recorded(f) is not None
]
GPU_SERVERS = ["gpu-h100", "gpu-h200"]
# Checks whose healthy case the CI machine cannot show live, and the recorded hosts that show it.
HEALTHY = {
    **{c.id: GPU_SERVERS for c in GPU_CHECKS},
    "HOST-DOCKER-NVIDIA": GPU_SERVERS,
    "HOST-TIME": ["time-timedatectl-synced", "time-chrony-synced"],
    "HOST-FIREWALL": ["firewall-healthy"],
    "HOST-NGINX-CONFIG": ["nginx-host"],
    "HOST-NGINX-RUNNING": ["nginx-host"],
}
HEALTHY_CASES = [pytest.param(cid, name, id=f"{cid}@{name}") for cid, names in HEALTHY.items() for name in names]
BY_ID = {c.id: c for c in CHECKS}


def facts(name: str, root: Path, context: CheckContext | None = None) -> HostFacts:
    return HostFacts(recordings.recorded_host(name), load_deployment(root), context or CheckContext())


def test_layers_have_their_groups() -> None:
    assert {c.group.prefix for c in all_checks("host")} == {
        "HOST-DOCKER",
        "HOST-CONTAINERS",
        "HOST-PORTS",
        "HOST-NGINX",
        "HOST",
    }
    assert {c.id for c in GPU_CHECKS} == {"GPU-HOST", "GPU-DOCKER-RUNTIME", "GPU-DOCKER-CONTAINER", "GPU-OLLAMA"}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_check_has_faults_that_name_their_finding(check: Check) -> None:
    assert check.faults, f"{check.id} has no fault that proves it can fail"
    for fault in check.faults:
        assert fault.expect, f"{check.id}: {fault} does not name the finding it expects"
        for step in fault.steps:
            assert isinstance(step, (*LIVE_STEPS, Recorded, Setting, SetEnv, Edit)), f"{check.id}: {step}"
            if isinstance(step, Recorded):
                assert (recordings.HOSTS / f"{step.name}.yaml").is_file(), f"{check.id}: no recording {step.name}"


@pytest.mark.parametrize("name", recordings.names())
def test_every_recorded_answer_names_its_source(name: str) -> None:
    for answer in recordings.load(name):
        assert answer.source.strip(), f"{name}: an answer for {answer.match} has no source"


@pytest.mark.parametrize(("check", "index"), RECORDED)
def test_check_fails_on_its_recorded_fault(check: Check, index: int, gpu_dir: Path, tmp_path: Path) -> None:
    fault = check.faults[index]
    with on_fault(fault, root=gpu_dir, scratch=tmp_path, context=CheckContext()) as subject:
        findings = [str(f) for f in check.findings(subject)]
    assert findings, f"{check.id} did not catch: {fault}"
    assert any(fault.expect in f for f in findings), f"{check.id}: no finding has {fault.expect!r}: {findings}"


@pytest.mark.parametrize(("check_id", "name"), HEALTHY_CASES)
def test_check_passes_on_a_healthy_recorded_host(check_id: str, name: str, gpu_dir: Path) -> None:
    findings = [str(f) for f in BY_ID[check_id].findings(facts(name, gpu_dir))]
    assert not findings, f"{check_id} on {name}: {findings}"


@pytest.mark.parametrize("name", GPU_SERVERS)
def test_model_server_passes_after_warming_up_a_named_model(name: str, gpu_dir: Path) -> None:
    subject = facts(name, gpu_dir, CheckContext(ollama_model="qwen2.5:0.5b"))
    assert not BY_ID["GPU-OLLAMA"].findings(subject)
    assert any("/api/generate" in line for line in subject.host.backend.asked), "no warm-up request was made"


def test_model_server_without_a_model_and_none_loaded_is_skipped_with_the_reason(gpu_dir: Path) -> None:
    with pytest.raises(CheckSkipped, match="--ollama-model"):
        BY_ID["GPU-OLLAMA"].findings(facts("ollama-empty", gpu_dir))


@pytest.mark.parametrize("check", GPU_CHECKS, ids=lambda c: c.id)
def test_a_host_without_a_driver_gets_one_clear_verdict_per_gpu_check(check: Check, gpu_dir: Path) -> None:
    assert [str(f) for f in check.findings(facts("no-driver", gpu_dir))] == [NO_DRIVER]


def test_nvidia_runtime_is_not_asked_for_without_the_gpu_profile(healthy_dir: Path) -> None:
    # A deployment without the gpu profile on a host without the toolkit: nothing to demand.
    assert not BY_ID["HOST-DOCKER-NVIDIA"].findings(facts("driver-no-toolkit", healthy_dir))
