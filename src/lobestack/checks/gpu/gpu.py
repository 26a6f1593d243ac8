"""The GPU from the host to the model server: the driver sees it, Docker can hand it to a container, and Ollama
holds its model in GPU memory. On a host without an NVIDIA driver each check fails once, with the same sentence
(`no NVIDIA driver: nvidia-smi not found`)."""

from __future__ import annotations

from collections.abc import Iterator

from lobestack.checks.faults import Recorded, Setting, fault
from lobestack.checks.registry import CheckSkipped, Finding, Group
from lobestack.probes import gpu
from lobestack.probes.host import HostFacts

GROUP = Group("GPU", layer="gpu", title="NVIDIA GPU")
# A model "uses the GPU" when at least this share of it sits in GPU memory (Ollama's `ollama ps` says "100% GPU"
# only when all of it does; a partly offloaded model runs at CPU speed for the rest).
MIN_VRAM_FRACTION = 0.9
NO_DRIVER = fault(Recorded("no-driver"), expect=gpu.NO_DRIVER)


@GROUP.check(
    "GPU-HOST",
    title="the host sees an NVIDIA GPU (`nvidia-smi --query-gpu=name,memory.total,driver_version`)",
    fix="install the NVIDIA driver for the card (Debian: `nvidia-driver`; or the CUDA repository's "
    "`cuda-drivers`), reboot, and check `nvidia-smi`",
    faults=[
        NO_DRIVER,
        fault(Recorded("driver-not-loaded"), expect="nvidia-smi failed on the host: NVIDIA-SMI has failed"),
    ],
    impact="breaks",
)
def host_sees_gpu(facts: HostFacts) -> Iterator[Finding]:
    gpu.host_gpus(facts)  # no answer is its HostProbeError: the check's finding (Check.findings)
    yield from ()


@GROUP.check(
    "GPU-DOCKER-RUNTIME",
    title="the nvidia runtime is registered in Docker (the NVIDIA Container Toolkit)",
    fix="install the NVIDIA Container Toolkit, `nvidia-ctk runtime configure --runtime=docker`, restart Docker",
    faults=[NO_DRIVER, fault(Recorded("driver-no-toolkit"), expect="Docker has no nvidia runtime (runtimes: ")],
    impact="breaks",
)
def docker_runtime(facts: HostFacts) -> Iterator[Finding]:
    gpu.host_gpus(facts)
    info = facts.docker_info()
    if "nvidia" not in info.runtimes:
        yield Finding(f"Docker has no nvidia runtime (runtimes: {', '.join(info.runtimes) or 'none'})")


@GROUP.check(
    "GPU-DOCKER-CONTAINER",
    title="a throwaway container with the GPU reservation (`docker run --gpus all`) lists the same GPUs as the host",
    fix="install and register the NVIDIA Container Toolkit; if the container sees fewer GPUs, check "
    "NVIDIA_VISIBLE_DEVICES and the reservation's `count`",
    faults=[
        NO_DRIVER,
        fault(Recorded("driver-no-toolkit"), expect='could not select device driver "" with capabilities: [[gpu]]'),
        fault(Recorded("container-sees-fewer"), expect="the container sees 1 GPU(s) but the host has 2"),
    ],
    impact="breaks",
)
def container_sees_gpu(facts: HostFacts) -> Iterator[Finding]:
    on_host = gpu.host_gpus(facts)
    in_container = gpu.container_gpus(facts)
    key = sorted((g.name, g.memory_mib) for g in on_host)
    if sorted((g.name, g.memory_mib) for g in in_container) != key:
        yield Finding(
            f"the container sees {len(in_container)} GPU(s) but the host has {len(on_host)}: "
            f"container [{'; '.join(map(str, in_container))}], host [{'; '.join(map(str, on_host))}]"
        )


@GROUP.check(
    "GPU-OLLAMA",
    title="Ollama holds its models in GPU memory (`/api/ps`: size_vram close to size), after warming up "
    "--ollama-model if named",
    fix="size_vram 0: Ollama runs on the CPU: start it with the gpu profile's GPU reservation (`docker compose "
    "--profile gpu up -d`) on a host where GPU-DOCKER-CONTAINER passes; partly in GPU memory: a smaller model or "
    "quantisation",
    faults=[
        NO_DRIVER,
        fault(Recorded("ollama-cpu"), expect="runs on the CPU: size_vram 0"),
        fault(Recorded("ollama-cpu-old"), expect="runs on the CPU: size_vram 0"),
        fault(Recorded("ollama-partial"), expect="only 62% in GPU memory"),
        fault(Setting("ollama_model", "qwen2.5:0.5b"), Recorded("ollama-cpu"), expect="qwen2.5:0.5b runs on the CPU"),
        fault(Setting("ollama_model", "llama3.2:1b"), Recorded("gpu-h200"), expect="llama3.2:1b is not on"),
        fault(Recorded("ollama-down"), expect="Ollama does not answer"),
    ],
    impact="advice",
)
def model_server(facts: HostFacts) -> Iterator[Finding]:
    gpu.host_gpus(facts)
    model = facts.context.ollama_model
    if model:
        gpu.warm_up(facts, model)
    loaded = gpu.loaded_models(facts)
    if model:
        loaded = [m for m in loaded if m.name == model or m.name == f"{model}:latest"]
        if not loaded:
            yield Finding(f"{model} is not loaded after its warm-up (GET /api/ps does not list it)")
            return
    elif not loaded:
        raise CheckSkipped("Ollama has no model loaded; name one to warm up with --ollama-model NAME")
    for m in loaded:
        if m.size_vram == 0:
            yield Finding(f"{m.name} runs on the CPU: size_vram 0 of size {m.describe()} (nothing in GPU memory)")
        elif m.vram_fraction < MIN_VRAM_FRACTION:
            yield Finding(
                f"{m.name} is only {m.vram_fraction:.0%} in GPU memory (size_vram {m.describe(m.size_vram)} of "
                f"{m.describe()}): the rest runs on the CPU"
            )
