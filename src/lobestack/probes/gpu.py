"""GPU facts through the same testinfra host (probes/host.py): what `nvidia-smi` on the host sees, what a throwaway
container with the GPU reservation sees, and what Ollama's `/api/ps` says it holds in GPU memory.

Parsers take the tools' real outputs (tests/data/hosts/ holds captured ones, each with its source and date)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from lobestack.probes.host import HostFacts, HostProbeError

QUERY = "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader"
NO_DRIVER = "no NVIDIA driver: nvidia-smi not found"
DEFAULT_OLLAMA_IMAGE = "ollama/ollama:0.6.8"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:21434"


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mib: int
    driver: str

    def __str__(self) -> str:
        return f"{self.name} ({self.memory_mib} MiB, driver {self.driver})"


def parse_gpus(text: str) -> list[Gpu]:
    """`nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader` -> one Gpu per line, e.g.
    `NVIDIA H200, 143771 MiB, 580.159.03`."""
    gpus = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3:
            raise ValueError(f"not a name, memory.total, driver_version line: {line!r}")
        name, memory, driver = parts
        number = memory.split()[0] if memory.split() else ""
        if not number.isdigit():
            raise ValueError(f"memory.total is not a number of MiB: {memory!r}")
        gpus.append(Gpu(name, int(number), driver))
    return gpus


@dataclass(frozen=True)
class LoadedModel:
    name: str
    size: int
    size_vram: int

    @property
    def vram_fraction(self) -> float:
        return self.size_vram / self.size if self.size else 0.0

    def describe(self, n: int | None = None) -> str:
        """A size in GiB (default: the model's size)."""
        return _gib(self.size if n is None else n)


def _gib(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB"


def parse_ps(text: str) -> list[LoadedModel]:
    """Ollama `GET /api/ps` -> the loaded models. Ollama releases before mid-2024 left `size_vram` out when it was 0
    (ollama/ollama#4840): a missing `size_vram` means nothing is in GPU memory."""
    data = json.loads(text)
    models = data.get("models")
    if not isinstance(models, list):
        raise ValueError(f"no `models` list in /api/ps: {text[:200]!r}")
    return [
        LoadedModel(str(m.get("name") or m.get("model") or "?"), int(m.get("size") or 0), int(m.get("size_vram") or 0))
        for m in models
    ]


# --- probes ------------------------------------------------------------------------------------------------------


def _smi_error(answer: Any) -> HostProbeError:
    if answer.not_found:
        return HostProbeError(NO_DRIVER)
    return HostProbeError(f"nvidia-smi failed on the host: {answer.why()}")


def host_gpus(facts: HostFacts) -> list[Gpu]:
    """The GPUs the host's driver sees; HostProbeError(NO_DRIVER) where there is no driver."""

    def read() -> list[Gpu]:
        answer = facts.run(QUERY)
        if not answer.ok:
            raise _smi_error(answer)
        try:
            gpus = parse_gpus(answer.stdout)
        except ValueError as exc:
            raise HostProbeError(f"unreadable nvidia-smi answer: {exc}") from None
        if not gpus:
            raise HostProbeError("nvidia-smi lists no GPU")
        return gpus

    return facts._once("host_gpus", read)


def gpu_image(facts: HostFacts) -> str:
    if facts.context.gpu_image:
        return facts.context.gpu_image
    service = facts.deployment.compose.services.get("ollama")
    return service.image if service is not None and service.image else DEFAULT_OLLAMA_IMAGE


def container_gpus(facts: HostFacts) -> list[Gpu]:
    """The GPUs a throwaway container with the GPU reservation (`--gpus all`, what Compose's device reservation
    asks for) sees, through the nvidia-smi the NVIDIA runtime mounts into it. The image is never pulled."""

    def read() -> list[Gpu]:
        image = gpu_image(facts)
        query = QUERY.removeprefix("nvidia-smi ")
        answer = facts.run(
            f"docker run --rm --gpus all --pull never --entrypoint nvidia-smi {shlex.quote(image)} {query}",
            timeout_s=max(60.0, facts.context.probe_timeout_s),
        )
        if not answer.ok:
            why = answer.why()
            if "No such image" in why or "pull access denied" in why or "--pull=never" in why:
                raise HostProbeError(f"image {image} is not on the host: `docker pull {image}` (or --gpu-image)")
            raise HostProbeError(f"a container with --gpus all could not start: {why}")
        try:
            return parse_gpus(answer.stdout)
        except ValueError as exc:
            raise HostProbeError(f"unreadable nvidia-smi answer in the container: {exc}") from None

    return facts._once("container_gpus", read)


def ollama_url(facts: HostFacts) -> str:
    if facts.context.ollama_url:
        return facts.context.ollama_url.rstrip("/")
    service = facts.deployment.compose.services.get("ollama")
    for binding in service.ports if service is not None else []:
        if binding.container_port == 11434 and binding.host_port:
            address = binding.host_ip if binding.host_ip not in ("", "0.0.0.0") else "127.0.0.1"
            return f"http://{address}:{binding.host_port}"
    return DEFAULT_OLLAMA_URL


def _http(facts: HostFacts, method: str, url: str, body: dict | None, timeout_s: float) -> tuple[int, str]:
    """An HTTP request made on the host (curl, else wget): (status, body). Status 0: no answer."""
    data = json.dumps(body) if body is not None else ""
    curl = f"curl -sS -m {timeout_s:g} -o - -w '\\n%{{http_code}}' -X {method} {shlex.quote(url)}"
    if body is not None:
        curl += f" -H 'Content-Type: application/json' -d {shlex.quote(data)}"
    wget = f"wget -q -O - -T {timeout_s:g} {shlex.quote(url)}"
    if body is not None:
        wget += f" --header='Content-Type: application/json' --post-data={shlex.quote(data)}"
    wget += " && printf '\\n200'"
    answer = facts.run(f"if command -v curl >/dev/null 2>&1; then {curl}; else {wget}; fi", timeout_s=timeout_s + 5)
    if not answer.ok:
        raise HostProbeError(f"{method} {url}: no answer ({answer.why()})")
    text, _, status = answer.stdout.rstrip("\n").rpartition("\n")
    if not status.strip().isdigit():
        raise HostProbeError(f"{method} {url}: unreadable answer {answer.stdout[:200]!r}")
    return int(status), text


def warm_up(facts: HostFacts, model: str) -> None:
    """Load `model` (Ollama loads a model on a generate request with no prompt) and keep it loaded a while."""
    url = f"{ollama_url(facts)}/api/generate"
    status, text = _http(facts, "POST", url, {"model": model, "keep_alive": "10m"}, facts.context.warmup_timeout_s)
    if status == 404:
        raise HostProbeError(
            f"model {model} is not on the Ollama server: `docker compose exec ollama ollama pull {model}` "
            f"({text.strip()[:200]})"
        )
    if status != 200:
        raise HostProbeError(f"warm-up of {model}: POST {url} answered {status}: {text.strip()[:200]}")


def loaded_models(facts: HostFacts) -> list[LoadedModel]:
    url = f"{ollama_url(facts)}/api/ps"
    try:
        status, text = _http(facts, "GET", url, None, facts.context.probe_timeout_s)
    except HostProbeError as exc:
        raise HostProbeError(
            f"Ollama does not answer: {exc} (is the gpu profile up? `docker compose --profile gpu up -d`)"
        ) from None
    if status != 200:
        raise HostProbeError(f"GET {url} answered {status}: {text.strip()[:200]}")
    try:
        return parse_ps(text)
    except ValueError as exc:
        raise HostProbeError(f"GET {url}: {exc}") from None
