#!/usr/bin/env python3
"""Benchmarks of lobestack (medians of N runs, printed with the command that produced them).

static-gate   the gate's own command (tox.ini's [testenv:static] commands) as a bare process: `python -m pytest …`
tox-static    the same through `tox -e static -- --deployment DIR` (warm env), side by side with static-gate
tox-start     `tox --version`: tox's own start-up, paid by every tox command before its own work
model+checks  in-process: build the deployment model and run every check (what the gate's own time is made of)
compose-cfg   `docker compose config --format json` in the deployment directory (what Compose as the gate's reader
              would add to every run), when docker compose is here
stack-up      (--stack) cold start of the ephemeral stack, images cached: render + `up` + provisioning, as a run
              starts it (LobeChat last, once)
stack-down    (--stack) teardown: `down --volumes` of a healthy stack
live-all      (--stack) every live check against the healthy stack, run concurrently as the suite does
live-slowest  (--stack) the slowest single live check alone (live-all should stay within 1.5x of it)
live-dead     (--stack) `lobestack check stack --target live` against an address that accepts and never answers
smoke-warm    (--stack) `tox -e smoke` end to end with images cached: it starts and removes its own stack
e2e-signin    (--e2e) the browser sign-in flow (E2E-SIGNIN) on a warm stack, in one launched Chromium, against
              the sum of its page loads (each document's navigation start to load end, from the pages themselves)
image-check   (--image-build) `python -m lobestack images --images reference` with every image up to date
image-cached  (--image-build) the same with --rebuild: every `docker build` runs, each step from Docker's cache
image-cold    (--image-build-cold, one run) the real LobeChat's build from nothing: its image and every cached
              layer of its build removed first (about 20 minutes); with the host's peak memory in use

Each figure is the median wall time, with the median CPU time (user + system of the process tree) beside it: on a
busy machine wall time includes waiting for a core, CPU time does not.

Usage: python scripts/bench.py [--runs 5] [--stack] [--e2e] [--images standin|reference|official]
                               [--image-build] [--image-build-cold]
--images picks the set of --stack and --e2e (default: standin, the fast set; reference runs the real LobeChat).
The official image set needs a machine that can pull from Docker Hub.
"""

from __future__ import annotations

import argparse
import configparser
import os
import resource
import shlex
import shutil
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


def _static_command() -> list[str]:
    """tox.ini's [testenv:static] command without {posargs}: what bench times bare is what tox runs."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(REPO / "tox.ini")
    return [a for a in shlex.split(ini["testenv:static"]["commands"]) if a != "{posargs}"]


def _timed(command: list[str], runs: int, cwd: Path = REPO) -> tuple[list[float], list[float]] | None:
    """(wall times, CPU times) of `command` run `runs` times; None when it fails or is not installed."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        try:
            result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=dict(os.environ))
        except OSError:
            return None
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if result.returncode != 0:
            print(f"$ {shlex.join(command)}: exit {result.returncode}\n{result.stdout[-1500:]}", file=sys.stderr)
            return None
    return walls, cpus


def _both(samples: tuple[list[float], list[float]]) -> str:
    walls, cpus = samples
    return f"{_median(walls)}; CPU median {statistics.median(cpus):.3f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", action="store_true", help="also benchmark the ephemeral stack's start and teardown")
    parser.add_argument("--images", choices=("standin", "reference", "official"), default="standin")
    parser.add_argument("--e2e", action="store_true", help="also benchmark the browser sign-in on a warm stack")
    parser.add_argument("--image-build", action="store_true", help="also benchmark the reference set's build, cached")
    parser.add_argument(
        "--image-build-cold", action="store_true", help="also time one cold build of the real LobeChat (~20 min)"
    )
    args = parser.parse_args()

    from lobestack.checks import all_checks
    from lobestack.deployment import load_deployment
    from lobestack.render.ephemeral import render_ephemeral

    with tempfile.TemporaryDirectory(prefix="lobestack-bench-") as tmp:
        deploy = Path(tmp) / "deploy"
        render_ephemeral(deploy)
        checks = all_checks()
        given = ["--deployment", str(deploy), "--report-dir", str(Path(tmp) / "reports")]
        gate_args = _static_command()
        bare = [sys.executable, "-m", *gate_args, "-q", *given]
        through_tox = ["tox", "-e", "static", "-q", "--", *given]
        gate = _timed(bare, args.runs)
        tox = _timed(through_tox, args.runs) if shutil.which("tox") else None
        tox_start = _timed(["tox", "--version"], args.runs) if shutil.which("tox") else None
        compose = _timed(["docker", "compose", "config", "--format", "json"], args.runs, cwd=deploy)
        if gate is None:
            return 3

        inproc: list[float] = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            d = load_deployment(deploy)
            for c in checks:
                c.findings(d)
            inproc.append(time.perf_counter() - t0)

    print(f"static-gate   {_both(gate)}")
    print(f"              $ {shlex.join(['python', '-m', *gate_args])} -q --deployment DIR")
    if tox is not None and tox_start is not None:
        wall = statistics.median(tox[0]) / statistics.median(gate[0])
        cpu = statistics.median(tox[1]) / statistics.median(gate[1])
        print(f"tox-static    {_both(tox)}")
        print("              $ tox -e static -- --deployment DIR")
        print(f"tox-start     {_both(tox_start)}  ($ tox --version)")
        print(
            f"ratio         tox/bare {wall:.2f}x wall, {cpu:.2f}x CPU (aim: at most 1.3x; under 1 s: "
            f"{'yes' if statistics.median(tox[0]) < 1 else 'no'})"
        )
    print(f"model+checks  {_median(inproc)}  ({len(checks)} checks, in-process)")
    if compose is not None:
        print(f"compose-cfg   {_both(compose)}  ($ docker compose config --format json, per call)")
    if args.stack:
        _bench_stack(args.runs, args.images)
    if args.image_build or args.image_build_cold:
        _bench_image_build(args.runs, cold=args.image_build_cold)
    if args.e2e:
        return _bench_e2e(args.runs, args.images)
    return 0


def _bench_image_build(runs: int, *, cold: bool) -> None:
    from lobestack.targets.images import LOBECHAT, ensure_images, specs_for

    quiet = lambda line: None  # noqa: E731
    if cold:
        subprocess.run(["docker", "rmi", "-f", LOBECHAT.tag, LOBECHAT.content_tag()], capture_output=True)
        subprocess.run(["docker", "image", "prune", "-f"], capture_output=True)  # the build stages' cached layers
        timings: dict = {}
        ensure_images((LOBECHAT,), progress=quiet, timings=timings)
        cold_build = timings[LOBECHAT.tag]
        peak = f"; host memory in use peaked {cold_build.peak_gib:.1f} GiB" if cold_build.peak_gib else ""
        print(f"image-cold    {cold_build.seconds:.1f} s  (one run: {LOBECHAT.tag} from nothing{peak})")
    ensure_images(specs_for("reference"), progress=quiet)
    checks = _timed([sys.executable, "-m", "lobestack", "images", "--images", "reference"], runs)
    cached = _timed([sys.executable, "-m", "lobestack", "images", "--images", "reference", "--rebuild"], runs)
    if checks is not None:
        print(f"image-check   {_both(checks)}  ($ python -m lobestack images --images reference; all up to date)")
    if cached is not None:
        print(f"image-cached  {_both(cached)}  (the same with --rebuild: every step from Docker's layer cache)")


def _bench_stack(runs: int, images: str) -> int:
    from lobestack.targets.compose import EphemeralStack
    from lobestack.targets.images import BUILT_SETS, ensure_images
    from lobestack.targets.runs import remove_leftovers

    remove_leftovers()
    if images in BUILT_SETS:
        ensure_images(BUILT_SETS[images], progress=lambda line: None)
    ups: list[float] = []
    provisions: list[float] = []
    downs: list[float] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lobestack-bench-stack-") as tmp:
            t0 = time.perf_counter()
            stack = EphemeralStack.create(Path(tmp), images, progress=lambda line: None)
            try:
                stack.up()  # as a run starts it: all but LobeChat, provisioning, then LobeChat
                ups.append(time.perf_counter() - t0)
                provisions.append(stack.provision_s or 0.0)
            finally:
                t1 = time.perf_counter()
                stack.down()
                downs.append(time.perf_counter() - t1)
    print(f"stack-up      {_median(ups)}  (images={images}, cached; render + up + provision, LobeChat started last)")
    print(f"  provision   {_median(provisions)}  (of it: first admin, both Logto apps, .env, test user, LobeChat up)")
    print(f"stack-down    {_median(downs)}  (down --volumes)")
    print(f"ratio         start/teardown {statistics.median(ups) / statistics.median(downs):.1f}x")
    _bench_live(runs, images)
    _bench_dead(runs)
    _bench_smoke(runs)
    return 0


def _bench_live(runs: int, images: str) -> None:
    from lobestack.checks import all_checks
    from lobestack.checks.runner import evaluate, evaluate_all
    from lobestack.targets.compose import EphemeralStack

    checks = all_checks("stack")
    with tempfile.TemporaryDirectory(prefix="lobestack-bench-live-") as tmp:
        stack = EphemeralStack.create(Path(tmp), images, progress=lambda line: None)
        try:
            stack.up()
            together: list[float] = []
            for _ in range(runs):
                t0 = time.perf_counter()
                results = evaluate_all(checks, stack)
                together.append(time.perf_counter() - t0)
                bad = {cid: o for cid, o in results.items() if o.findings or o.error}
                if bad:
                    print(f"live checks failed on the healthy stack: {bad}", file=sys.stderr)
            alone: dict[str, list[float]] = {c.id: [] for c in checks}
            for _ in range(runs):
                for c in checks:
                    t0 = time.perf_counter()
                    evaluate(c, stack)
                    alone[c.id].append(time.perf_counter() - t0)
        finally:
            stack.down()
    slowest = max(alone, key=lambda cid: statistics.median(alone[cid]))
    print(f"live-all      {_median(together)}  ({len(checks)} live checks, concurrently)")
    print(f"live-slowest  {_median(alone[slowest])}  ({slowest} alone)")
    print(f"ratio         all/slowest {statistics.median(together) / statistics.median(alone[slowest]):.2f}x")
    print(f"live-serial   sum of medians {sum(statistics.median(v) for v in alone.values()):.3f} s (one at a time)")


def _bench_dead(runs: int) -> None:
    import socket

    from lobestack.render.ephemeral import render_ephemeral

    listeners = []
    for port in (80, 443, 8443):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.3", port))
        sock.listen(256)
        listeners.append(sock)
    try:
        with tempfile.TemporaryDirectory(prefix="lobestack-bench-dead-") as tmp:
            render_ephemeral(Path(tmp) / "deploy")
            command = [
                sys.executable,
                "-m",
                "pytest",
                "src/lobestack/suites/stack",
                "--target",
                "live",
                "--deployment",
                str(Path(tmp) / "deploy"),
                "-q",
                "-p",
                "no:cacheprovider",
                "--report-dir",
                str(Path(tmp) / "r"),
            ]
            for name in ("lobe.test", "auth.test", "s3.test"):
                command += ["--resolve", f"{name}:127.0.0.3"]
            samples = []
            for _ in range(runs):
                t0 = time.perf_counter()
                subprocess.run(command, cwd=REPO, capture_output=True, text=True)
                samples.append(time.perf_counter() - t0)
    finally:
        for sock in listeners:
            sock.close()
    print(f"live-dead     {_median(samples)}  (every verdict; probes bounded at 4 s, run concurrently)")


def _bench_smoke(runs: int) -> None:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = subprocess.run(["tox", "-e", "smoke"], cwd=REPO, capture_output=True, text=True)
        samples.append(time.perf_counter() - t0)
        if result.returncode != 0:
            print(result.stdout[-2000:], file=sys.stderr)
    print(f"smoke-warm    {_median(samples)}  ($ tox -e smoke; images cached)")


# Each document logs its navigation timing once loaded: start of the navigation to the end of its load event.
PAGE_LOAD_SCRIPT = """window.addEventListener('load', () => setTimeout(() => {
  const n = performance.getEntriesByType('navigation')[0];
  if (n) console.debug('lobestack-page-load ' + n.duration + ' ' + location.origin + location.pathname);
}, 0));"""


def _bench_e2e(runs: int, images: str) -> int:
    from playwright.sync_api import sync_playwright

    from lobestack.browser import flows
    from lobestack.browser.chromium import browser_home, launch_options
    from lobestack.browser.session import BrowserSession
    from lobestack.targets.compose import EphemeralStack
    from lobestack.targets.images import BUILT_SETS, ensure_images
    from lobestack.targets.runs import remove_leftovers, stack_lock

    remove_leftovers()
    if images in BUILT_SETS:
        ensure_images(BUILT_SETS[images], progress=lambda line: None)
    walls: list[float] = []
    loads: list[float] = []
    counts: list[int] = []
    steps: dict[str, list[float]] = {}
    with stack_lock(print, 900), tempfile.TemporaryDirectory(prefix="lobestack-bench-e2e-") as tmp:
        stack = EphemeralStack.create(Path(tmp), images, progress=lambda line: None)
        try:
            stack.up()
            with sync_playwright() as playwright:
                t0 = time.perf_counter()
                home = browser_home(stack, Path(tmp) / "home")
                browser = playwright.chromium.launch(**launch_options(stack, home))
                launch = time.perf_counter() - t0
                session = BrowserSession(stack, browser, Path(tmp) / "reports")
                session.init_scripts.append(PAGE_LOAD_SCRIPT)
                for attempt in range(runs + 1):  # the first run warms the stack's caches and is not counted
                    t0 = time.perf_counter()
                    result = session.run("E2E-SIGNIN", flows.sign_in)
                    wall = time.perf_counter() - t0
                    if result.failure is not None:
                        print(f"the sign-in failed on the healthy stack: {result.message()}", file=sys.stderr)
                        return 3
                    pages = [line.split()[2:4] for line in result.console if "lobestack-page-load" in line]
                    if attempt:
                        for name, seconds in result.timings.items():
                            steps.setdefault(name, []).append(seconds)
                        walls.append(wall)
                        loads.append(sum(float(ms) for ms, _ in pages) / 1000)
                        counts.append(len(pages))
                browser.close()
        finally:
            stack.down()
    print(f"e2e-signin    {_median(walls)}  (E2E-SIGNIN on a warm stack, images={images})")
    print(f"browser       {launch:.3f} s once per run: the trust store and Chromium's launch")
    print(f"page-loads    {_median(loads)}  (sum over the flow's {statistics.median(counts):.0f} documents)")
    ratio = statistics.median(walls) / statistics.median(loads)
    print(f"ratio         flow/page loads {ratio:.1f}x; per step (medians):")
    for name, samples in steps.items():
        print(f"                {statistics.median(samples):6.3f} s  {name}")
    print("              $ python scripts/bench.py --e2e --runs 5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
