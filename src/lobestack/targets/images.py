"""The locally built image sets, for hosts with no container registry:

- `reference`: REAL LobeChat 1.143.3, built from its npm package (`upstream/lobechat`, following the package's own
  Dockerfile.database), REAL Logto 1.37.1, built from its release source (`upstream/logto`, following the tag's own
  Dockerfile), a stand-in for MinIO, and real PostgreSQL 17 + pgvector and Nginx from Debian trixie's packages;
- `standin`: stand-ins for LobeChat and Logto too: the fast set (seconds to build instead of half an hour).

(`official`, the third set, is pulled, never built.) Each image is rebuilt only when its build context changed (a
content hash label); the real LobeChat's heavy stages (install, next build) are also cached by Docker's layer cache,
so a change to its last stage rebuilds in seconds.

Logto's source is not on a registry: its release archive and the oidc-provider fork it depends on come from the
upstream sources folder (`LOBESTACK_UPSTREAM_SOURCES`, by default `shared/upstream` beside the checkout), are copied
into the build context for the build and checked against their sha256 there.

The build contexts live in `standins/` and `upstream/` of a lobestack source checkout: they are test infrastructure,
not part of the deployment bundle, and the wheel does not carry them.

Every image is also tagged by its content (`<name>:ctx-<hash>`), and a stack runs those tags: several checkouts on
one host (each with its own stand-ins) then never swap an image under each other's stack; the plain tag
(`lobestack/logto:1.37.1`) names whichever build came last.

Builds run `FROM ${BASE_IMAGE}`: `debian:bookworm-slim` where a registry is reachable, else the base that
scripts/setup-host makes with debootstrap. Package managers inside a build reach their registries through the
extra CA bundle in `extra-ca.pem` (the host's bundle by default: it trusts any TLS-intercepting proxy the host
trusts); it is used in build stages only and never lands in a final image."""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from lobestack.errors import BadInput

HASH_LABEL = "org.lobestack.context-hash"
DEFAULT_BASE = os.environ.get("LOBESTACK_BASE_IMAGE", "lobestack/bookworm-base:1")
# PostgreSQL 17 + pgvector and Nginx 1.26 (the bundle pins 17.5 and 1.27.5) are Debian trixie's packages.
TRIXIE_BASE = os.environ.get("LOBESTACK_TRIXIE_BASE_IMAGE", "lobestack/trixie-base:1")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Not part of an image's content: docs, dependency caches, the CA copied in at build time.
_SKIP = {"node_modules", "extra-ca.pem", "README.md", "__pycache__"}
# A quick image builds in under a minute; the real LobeChat's cold build takes about twenty (next build).
QUICK_BUILD_S = 900
LONG_BUILD_S = 5400


@dataclass(frozen=True)
class ImageSpec:
    directory: str
    tag: str
    build_args: dict[str, str] = field(default_factory=dict)
    root: str = "standins"  # standins/ (stand-ins, and the real PostgreSQL and Nginx) or upstream/ (real products)
    timeout_s: int = QUICK_BUILD_S
    info_file: str = ""  # a JSON file in the image that says what the build resolved (shown after a build)
    # Files the build needs that no registry serves: (name, sha256), copied in from the upstream sources folder.
    sources: tuple[tuple[str, str], ...] = ()
    trixie: bool = False  # built FROM the trixie base instead of the bookworm one

    @property
    def long(self) -> bool:
        """A build long enough to show its steps and a heartbeat while it runs."""
        return self.timeout_s > QUICK_BUILD_S

    def context(self) -> Path:
        return checkout_dir(self.root) / self.directory

    @property
    def source_names(self) -> frozenset[str]:
        """The upstream sources copied in for a build: they count by their pinned sha256 (hash_args), not as files."""
        return frozenset(name for name, _ in self.sources)

    def base(self, base_image: str = DEFAULT_BASE) -> str:
        return TRIXIE_BASE if self.trixie else base_image

    def hash_args(self, base_image: str = DEFAULT_BASE) -> dict[str, str]:
        """What the content hash covers besides the context's files: build arguments, the base, the sources."""
        return {**self.build_args, "BASE_IMAGE": self.base(base_image), **{n: sha for n, sha in self.sources}}

    def content_tag(self, base_image: str = DEFAULT_BASE) -> str:
        """`<name>:ctx-<hash of the build context>`: the image this checkout's sources build."""
        wanted = context_hash(self.context(), self.hash_args(base_image), self.source_names)
        return f"{self.tag.rsplit(':', 1)[0]}:ctx-{wanted}"


POSTGRES = ImageSpec("postgres", "lobestack/postgres-pgvector:17", {"WITH_PGVECTOR": "1"}, trixie=True)
MINIO_STANDIN = ImageSpec("minio", "lobestack/minio-standin:1")
LOGTO_STANDIN = ImageSpec("logto", "lobestack/logto-standin:1")
LOBECHAT_STANDIN = ImageSpec("lobechat", "lobestack/lobechat-standin:1")
LOBECHAT = ImageSpec(
    "lobechat",
    "lobestack/lobechat:1.143.3",
    root="upstream",
    timeout_s=LONG_BUILD_S,
    info_file="/app/lobestack-build.json",
)
NGINX = ImageSpec("nginx", "lobestack/nginx:1.26", trixie=True)
LOGTO = ImageSpec(
    "logto",
    "lobestack/logto:1.37.1",
    root="upstream",
    timeout_s=LONG_BUILD_S,
    info_file="/etc/logto/lobestack-build.json",
    sources=(
        ("logto-1.37.1.tar.xz", "a8ce5e49f6a5f4f13deaece5caa0f80b27df4e4ed648419da8c0342c28d2bc03"),
        ("oidc-provider-b958a6a.tgz", "9ef9ac31eb1e16217ee5636cfd7f42d0398f9d348db7bbd1974dc0385b08b808"),
    ),
)

# Every set Compose can run; the built ones by their images, in build order (the long builds last, one after the
# other: side by side they would take the host's memory).
IMAGE_SETS = ("official", "reference", "standin")
BUILT_SETS: dict[str, tuple[ImageSpec, ...]] = {
    "reference": (POSTGRES, MINIO_STANDIN, NGINX, LOGTO, LOBECHAT),
    "standin": (POSTGRES, MINIO_STANDIN, LOGTO_STANDIN, NGINX, LOBECHAT_STANDIN),
}
# What each set is, said on the first line of every run that uses it.
SET_DESCRIPTIONS = {
    "official": "the upstream images, pulled",
    "reference": "REAL LobeChat 1.143.3 and REAL Logto 1.37.1 built locally from their published sources; "
    "a STAND-IN for MinIO; PostgreSQL/pgvector and Nginx are real",
    "standin": "the FAST set: STAND-INS for LobeChat, Logto and MinIO; PostgreSQL/pgvector and Nginx are real",
}
STANDIN_IMAGES = BUILT_SETS["standin"]


class ImageBuildError(RuntimeError):
    pass


def official_images(deployment: Path | None) -> list[str]:
    """The images a stack of the official set runs: the services the default profiles start, of `deployment` (the
    pre-deploy gate) or of the bundle, and the ephemeral overlay's own (Nginx in front, the breached-password
    stand-in). Literal names only: the bundle pins every image."""
    from lobestack.deployment import load_deployment
    from lobestack.render.bundle import bundle_dir

    if deployment is not None:
        refs = [s.image for s in load_deployment(deployment).compose.services.values() if s.active and s.image]
    else:
        services = yaml.safe_load((bundle_dir() / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
        refs = [str(s["image"]) for s in services.values() if s.get("image") and not s.get("profiles")]
    overlay = bundle_dir() / "ephemeral" / "docker-compose.ephemeral.yml"
    refs += [str(s["image"]) for s in yaml.safe_load(overlay.read_text(encoding="utf-8"))["services"].values()]
    return list(dict.fromkeys(refs))


def official_origin(refs: list[str]) -> str:
    """Where the official set's images come from, said on a run's first line: those present locally under their
    official names are used as they are, Compose pulls the rest."""
    if not refs:
        return "no image named"
    try:
        found = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .RepoTags}}", *refs],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "Docker could not be asked which are present locally"
    tags = {tag for line in found.splitlines() if line.strip() for tag in json.loads(line) or []}
    present = [ref for ref in refs if ref in tags or f"{ref}:latest" in tags]
    pulled = [ref for ref in refs if ref not in present]
    if not pulled:
        return f"all {len(refs)} present locally under their official names"
    if not present:
        return f"all {len(refs)} pulled from their registries"
    return f"{len(present)} present locally under their official names; pulled: {', '.join(pulled)}"


def checkout_dir(root: str = "standins") -> Path:
    """`standins/` or `upstream/` of the source checkout this module runs from; BadInput when there is none (an
    installed wheel)."""
    checkout = Path(__file__).resolve().parents[3]
    if not (checkout / "standins" / "docker-compose.reference.yml").is_file():
        raise BadInput(
            "the locally built image sets (--images reference|standin) are built from a lobestack source checkout "
            "(its standins/ and upstream/ folders); this installation has none: run from a clone, or use "
            "--images official"
        )
    return checkout / root


def upstream_sources_dir() -> Path:
    """Where the upstream sources no registry serves are: LOBESTACK_UPSTREAM_SOURCES, else `shared/upstream` beside
    the checkout (where the project keeps them for CI)."""
    configured = os.environ.get("LOBESTACK_UPSTREAM_SOURCES")
    if configured:
        return Path(configured)
    return checkout_dir("upstream").parent.parent / "shared" / "upstream"


def upstream_source(spec: ImageSpec, name: str, sha256: str) -> Path:
    """The source file `name` of `spec`, checked against its sha256 before it goes into a build; BadInput when it is
    missing or different."""
    path = upstream_sources_dir() / spec.directory / name
    if not path.is_file():
        raise BadInput(
            f"{spec.tag} is built from {name}, which is not in {path.parent} (set LOBESTACK_UPSTREAM_SOURCES to the "
            "folder that holds the upstream sources: its README lists them with their checksums)"
        )
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise BadInput(f"sha256 {digest.hexdigest()} is not the pinned {sha256}", path)
    return path


def standins_dir() -> Path:
    return checkout_dir("standins")


def specs_for(images: str) -> tuple[ImageSpec, ...]:
    if images not in BUILT_SETS:
        raise BadInput(f"unknown image set {images!r} to build (one of {', '.join(BUILT_SETS)})")
    return BUILT_SETS[images]


def context_hash(directory: Path, build_args: dict[str, str], skip: frozenset[str] = frozenset()) -> str:
    digest = hashlib.sha256(repr(sorted(build_args.items())).encode())
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part in _SKIP or part in skip for part in rel.parts) or not path.is_file():
            continue
        digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _drop_other_contexts(spec: ImageSpec, keep: str) -> None:
    """Remove this image's tags of other contexts (docker refuses while a container still uses one: left alone).
    Only the tags go: the layers of the build stages stay in Docker's cache for the next build."""
    repo = spec.tag.rsplit(":", 1)[0]
    listed = subprocess.run(
        ["docker", "image", "ls", repo, "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    stale = [ref for ref in listed if ref.split(":", 1)[1].startswith("ctx-") and ref != keep]
    if stale:
        subprocess.run(["docker", "rmi", *stale], capture_output=True, timeout=120)


def _image_label(tag: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", f'{{{{index .Config.Labels "{HASH_LABEL}"}}}}', tag],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True, timeout=30).returncode == 0


def content_tags(specs: tuple[ImageSpec, ...], base_image: str = DEFAULT_BASE) -> dict[str, str]:
    """Plain tag -> content tag, for every image of the given set: what a stack of this checkout runs."""
    return {spec.tag: spec.content_tag(base_image) for spec in specs}


def build_info(spec: ImageSpec, ref: str) -> dict[str, str]:
    """What the image's build resolved (its `info_file`), or {} where it has none."""
    if not spec.info_file:
        return {}
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--entrypoint", "/bin/cat", ref, spec.info_file],
        capture_output=True,
        text=True,
        timeout=60,
    )
    try:
        info = json.loads(result.stdout) if result.returncode == 0 else {}
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in info.items()} if isinstance(info, dict) else {}


def ensure_images(
    specs: tuple[ImageSpec, ...],
    *,
    base_image: str = DEFAULT_BASE,
    extra_ca: Path | None = None,
    rebuild: bool = False,
    progress: Callable[[str], None] = print,
    timings: dict[str, BuildTiming] | None = None,
) -> list[str]:
    """Build what is missing or stale; return the tags built. `timings` (when given) gets each build's time and the
    host's peak memory during it."""
    checkout_dir()
    for base in dict.fromkeys(spec.base(base_image) for spec in specs):
        if not _image_exists(base):
            raise BadInput(
                f"base image {base} is missing: run scripts/setup-host (it builds it with debootstrap), or set "
                "LOBESTACK_BASE_IMAGE=debian:bookworm-slim and LOBESTACK_TRIXIE_BASE_IMAGE=debian:trixie-slim where "
                "a registry is reachable"
            )
    ca = extra_ca if extra_ca is not None else (HOST_CA_BUNDLE if HOST_CA_BUNDLE.exists() else None)
    built = []
    for spec in specs:
        directory = spec.context()
        wanted = context_hash(directory, spec.hash_args(base_image), spec.source_names)
        ref = spec.content_tag(base_image)
        if not rebuild and _image_exists(ref):
            if _image_label(spec.tag) != wanted:
                subprocess.run(["docker", "tag", ref, spec.tag], capture_output=True, timeout=30)
            progress(f"  image {spec.tag:34} up to date")
            continue
        sources = [(upstream_source(spec, name, sha256), directory / name) for name, sha256 in spec.sources]
        ca_copy = directory / "extra-ca.pem"
        if ca is not None:
            shutil.copyfile(ca, ca_copy)
        else:
            ca_copy.write_text("")
        args = ["docker", "build", "--tag", spec.tag, "--tag", ref, "--label", f"{HASH_LABEL}={wanted}"]
        args += ["--build-arg", f"BASE_IMAGE={spec.base(base_image)}"]
        for key, value in spec.build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        where = "" if spec.root == "standins" else f" from {spec.root}/{spec.directory}"
        progress(
            f"  image {spec.tag:34} building{where}…" + (" (10 to 20 min cold, seconds cached)" if spec.long else "")
        )
        try:
            for source, copy in sources:
                # A hard link where the filesystem allows it: the Logto source is 10 MB.
                try:
                    copy.unlink(missing_ok=True)
                    os.link(source, copy)
                except OSError:
                    shutil.copyfile(source, copy)
            timing = _run_build([*args, str(directory)], spec, progress)
        finally:
            ca_copy.unlink(missing_ok=True)
            for _, copy in sources:
                copy.unlink(missing_ok=True)
        memory = f", host memory in use peaked {timing.peak_gib:.1f} GiB" if timing.peak_gib is not None else ""
        progress(f"  image {spec.tag:34} built in {timing.seconds:.1f} s{memory}")
        if timings is not None:
            timings[spec.tag] = timing
        info = build_info(spec, ref)
        if info:
            progress("  resolved: " + ", ".join(f"{k} {v}" for k, v in info.items()))
        _drop_other_contexts(spec, ref)
        built.append(spec.tag)
    return built


@dataclass(frozen=True)
class BuildTiming:
    seconds: float
    peak_gib: float | None  # the host's memory in use (MemTotal - MemAvailable) at its highest; None off Linux


def _memory_in_use_kib() -> int | None:
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        return int(fields["MemTotal"].split()[0]) - int(fields["MemAvailable"].split()[0])
    except (OSError, KeyError, ValueError):
        return None


def _run_build(args: list[str], spec: ImageSpec, progress: Callable[[str], None]) -> BuildTiming:
    """Run one `docker build` (classic builder) to its end or its timeout. A long build shows each step and, every
    minute, the time so far; every build samples the host's memory in use. The last lines say why a build failed."""
    t0 = time.monotonic()
    peak = [_memory_in_use_kib()]
    tail: collections.deque[str] = collections.deque(maxlen=25)
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
        start_new_session=True,  # its own process group: a timeout stops the client and whatever it started
    )
    done = threading.Event()

    def stop() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def sample() -> None:
        last_beat = t0
        while not done.wait(1.0):
            used = _memory_in_use_kib()
            if used is not None and peak[0] is not None:
                peak[0] = max(peak[0], used)
            if spec.long and time.monotonic() - last_beat >= 60:
                last_beat = time.monotonic()
                progress(f"    … {spec.tag}: {last_beat - t0:.0f} s so far")
            if time.monotonic() - t0 > spec.timeout_s:
                stop()
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip()
            tail.append(line)
            if spec.long and line.startswith("Step "):
                progress(f"    {line[:150]}")
        returncode = process.wait()
    finally:
        done.set()
        sampler.join(timeout=5)
        if process.poll() is None:
            stop()
            process.wait()
    seconds = time.monotonic() - t0
    if seconds > spec.timeout_s:
        raise ImageBuildError(f"building {spec.tag} took over {spec.timeout_s} s")
    if returncode != 0:
        raise ImageBuildError(f"building {spec.tag} from {args[-1]} failed:\n" + "\n".join(tail))
    return BuildTiming(seconds, peak[0] / 2**20 if peak[0] is not None else None)
