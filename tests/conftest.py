"""Fixtures of lobestack's own tests: a healthy deployment rendered once, and copies of it to break; Docker, the
reference images and the host's stack ports for the tests that bring a stack up (tests/stack, tests/host)."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lobestack.render.bundle import Settings, render

REPO = Path(__file__).resolve().parents[1]

# A deployment as a user would have it after provisioning: example.com names, a Logto client.
HEALTHY = Settings(
    app_domain="lobe.example.com",
    auth_domain="auth.example.com",
    s3_domain="s3.example.com",
    logto_client_id="q2k8v0x7m3n5b1c9z4l6w",
    logto_client_secret="Zq8sK2mN4pL6rT1vX3yB5dF7hJ9wQ0eA",
)


@pytest.fixture(scope="session")
def healthy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("healthy") / "deploy"
    render(HEALTHY, root)
    return root


@pytest.fixture
def broken_dir(healthy_dir: Path, tmp_path: Path) -> Path:
    """A fresh copy of the healthy deployment, to edit."""
    target = tmp_path / "deploy"
    shutil.copytree(healthy_dir, target)
    return target


@dataclass(frozen=True)
class GateRun:
    """One run of the gate as a process: its exit code, output, wall and CPU time, peak memory (its own)."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.startswith("ERROR:")]


# A broken bound must not take the shared machine with it: the gate process gets 2 GiB of address space and
# 60 s of CPU, far above what a healthy run uses and far below what took the machine down.
_GATE_ADDRESS_SPACE = 2 * 1024**3
_GATE_CPU_S = 60


def _limit_gate() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_GATE_ADDRESS_SPACE, _GATE_ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (_GATE_CPU_S, _GATE_CPU_S))


def run_gate(
    deployment: Path | str | None, report_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> GateRun:
    """The static gate as `tox -e static -- --deployment DIR` runs it, measured. Hypothesis's pytest plugin (the
    test extra installs it) is left out: the gate has no use for it, and it costs most of a run's start-up."""
    args = [
        sys.executable,
        "-m",
        "pytest",
        "src/lobestack/suites/static",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
        "--assert=plain",
    ]
    args.append("-q")
    if deployment is not None:
        args += ["--deployment", str(deployment)]
    args += ["--report-dir", str(report_dir), "--lobestack-env", "static", *extra]
    return run_measured(args, env=env)


# Runs argv[2:] and writes its exit code, wall time and peak RSS to argv[1]. A process's peak RSS starts at the RSS
# of the process it was forked from (Linux records it at exec), so the gate is started from this small launcher,
# never straight from a test run that has grown to hundreds of MB.
_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.monotonic()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.monotonic() - started
with open(sys.argv[1], "w") as handle:
    json.dump({"returncode": os.waitstatus_to_exitcode(status), "seconds": seconds, "peak_kb": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime}, handle)
"""


def run_measured(args: list[str], *, env: dict[str, str] | None = None, timeout_s: float = 120) -> GateRun:
    """Run a process in the repository and measure its own wall time and peak RSS."""
    with tempfile.TemporaryDirectory() as scratch:
        measures = Path(scratch) / "measures.json"
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(measures), *args],
                cwd=REPO,
                stdout=stdout,
                stderr=stderr,
                env={**os.environ, **(env or {})},
                preexec_fn=_limit_gate,
                timeout=timeout_s,
                check=False,
            )
        measured = json.loads(measures.read_text())
        return GateRun(
            returncode=measured["returncode"],
            stdout=out.read_text(encoding="utf-8", errors="replace"),
            stderr=err.read_text(encoding="utf-8", errors="replace"),
            seconds=measured["seconds"],
            peak_rss_mb=measured["peak_kb"] / 1024,
            cpu_seconds=measured["cpu_seconds"],
        )


def _docker_ready() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI (scripts/setup-host installs it)"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode != 0:
        return "no running Docker engine (scripts/setup-host starts it)"
    if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode != 0:
        return "no Compose v2 plugin (scripts/setup-host installs it)"
    return None


@pytest.fixture(scope="session")
def docker_ready() -> None:
    reason = _docker_ready()
    if reason:
        pytest.skip(reason)


def uncaptured_print(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """A progress printer that reaches the terminal through pytest's capture (image builds take minutes)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(line, flush=True)

    return say


def _built_set(request: pytest.FixtureRequest, images: str) -> None:
    from lobestack.targets.images import ensure_images, specs_for
    from lobestack.targets.runs import remove_leftovers

    remove_leftovers()
    ensure_images(specs_for(images), progress=uncaptured_print(request))


@pytest.fixture(scope="session")
def standin_set(docker_ready: None, request: pytest.FixtureRequest) -> None:
    """The fast image set (stand-ins for LobeChat, Logto and MinIO), built when missing or stale."""
    _built_set(request, "standin")


@pytest.fixture(scope="session")
def reference_set(docker_ready: None, request: pytest.FixtureRequest) -> None:
    """The reference set (real Logto from its release source, real LobeChat from its npm package), built when missing
    or stale: about 30 minutes cold."""
    _built_set(request, "reference")


@pytest.fixture(scope="module")
def stack_ports(docker_ready: None) -> Iterator[None]:
    """The host's stack ports, held while a module's stacks run (other runs wait; see targets/runs.py). Tests that
    start a stack in a subprocess must not hold them (the subprocess takes them itself)."""
    from lobestack.targets.runs import stack_lock

    with stack_lock(print, 900):
        yield


@pytest.fixture(scope="session")
def variants(healthy_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The healthy deployment with one fault or pass variant applied, each loaded once per session."""
    from tests.static.proofs import Variants

    return Variants(healthy_dir, tmp_path_factory.mktemp("variants"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests import mutation

    for line in mutation.summary_lines():
        terminalreporter.write_line(line)
