#!/usr/bin/env python3
"""Benchmarks of lobestack (medians of N runs, printed with the command that produced them).

static-gate   the whole gate as users run it: `python -m pytest suites/static --deployment DIR` (a new process)
model+checks  in-process: build the deployment model and run every check (what the gate's own time is made of)
stack-up      (--stack) cold start of the ephemeral stack, images cached: render + `up` until all healthy
stack-down    (--stack) teardown: `down --volumes` of a healthy stack

Usage: python scripts/bench.py [--runs 5] [--stack [--images reference|official]]
The official image set needs a machine that can pull from Docker Hub.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _median(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples):.3f} s (min {min(samples):.3f}, max {max(samples):.3f}, n={len(samples)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", action="store_true", help="also benchmark the ephemeral stack's start and teardown")
    parser.add_argument("--images", choices=("reference", "official"), default="reference")
    args = parser.parse_args()

    from lobestack.checks import all_checks
    from lobestack.deployment import load_deployment
    from lobestack.render.ephemeral import render_ephemeral

    with tempfile.TemporaryDirectory(prefix="lobestack-bench-") as tmp:
        deploy = Path(tmp) / "deploy"
        render_ephemeral(deploy)
        checks = all_checks()

        command = [
            sys.executable,
            "-m",
            "pytest",
            "suites/static",
            "-q",
            "-p",
            "no:cacheprovider",
            "--deployment",
            str(deploy),
            "--report-dir",
            str(Path(tmp) / "reports"),
        ]
        gate: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
            gate.append(time.perf_counter() - t0)
            if result.returncode != 0:
                print(result.stdout[-2000:], file=sys.stderr)
                return 3

        inproc: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            d = load_deployment(deploy)
            for c in checks:
                c.findings(d)
            inproc.append(time.perf_counter() - t0)

    print(f"static-gate   {_median(gate)}")
    print(f"              $ {shlex.join(command[:7])} --deployment DIR")
    print(f"model+checks  {_median(inproc)}  ({len(checks)} checks, in-process)")
    print(
        f"ratio         the gate's process costs {statistics.median(gate) / statistics.median(inproc):.0f}x "
        "its checks (interpreter, pytest and plugin start-up)"
    )
    if args.stack:
        return _bench_stack(args.runs, args.images)
    return 0


def _bench_stack(runs: int, images: str) -> int:
    from lobestack.targets.compose import EphemeralStack
    from lobestack.targets.images import ensure_images
    from lobestack.targets.runs import remove_leftovers

    remove_leftovers()
    if images == "reference":
        ensure_images(progress=lambda line: None)
    ups: list[float] = []
    downs: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lobestack-bench-stack-") as tmp:
            t0 = time.perf_counter()
            stack = EphemeralStack.create(Path(tmp), images, progress=lambda line: None)
            try:
                stack.up()
                ups.append(time.perf_counter() - t0)
            finally:
                t1 = time.perf_counter()
                stack.down()
                downs.append(time.perf_counter() - t1)
    print(f"stack-up      {_median(ups)}  (images={images}, cached; render + up to all healthy)")
    print(f"stack-down    {_median(downs)}  (down --volumes)")
    print(f"ratio         start/teardown {statistics.median(ups) / statistics.median(downs):.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
