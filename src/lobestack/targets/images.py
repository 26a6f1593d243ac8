"""The reference image set, built locally: stand-ins for LobeChat, Logto and MinIO, and real PostgreSQL+pgvector
and Nginx from Debian packages. Each image is rebuilt only when its build context changed (a content hash label).

The build contexts live in `standins/` of a lobestack source checkout: they are test infrastructure, not part of
the deployment bundle, and the wheel does not carry them.

Builds run `FROM ${BASE_IMAGE}`: `debian:bookworm-slim` where a registry is reachable, else the base that
scripts/setup-host makes with debootstrap. Package managers inside a build reach their registries through the
extra CA bundle in `extra-ca.pem` (the host's bundle by default: it trusts any TLS-intercepting proxy the host
trusts); it is used in build stages only and never lands in a final image."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lobestack.errors import BadInput

HASH_LABEL = "org.lobestack.context-hash"
DEFAULT_BASE = os.environ.get("LOBESTACK_BASE_IMAGE", "lobestack/bookworm-base:1")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Not part of an image's content: docs, dependency caches, the CA copied in at build time.
_SKIP = {"node_modules", "extra-ca.pem", "README.md", "__pycache__"}


@dataclass(frozen=True)
class ImageSpec:
    directory: str
    tag: str
    build_args: dict[str, str] = field(default_factory=dict)


REFERENCE_IMAGES = (
    ImageSpec("postgres", "lobestack/postgres-pgvector:1", {"WITH_PGVECTOR": "1"}),
    ImageSpec("minio", "lobestack/minio-standin:1"),
    ImageSpec("logto", "lobestack/logto-standin:1"),
    ImageSpec("lobechat", "lobestack/lobechat-standin:1"),
    ImageSpec("nginx", "lobestack/nginx:1"),
)


class ImageBuildError(RuntimeError):
    pass


def standins_dir() -> Path:
    """`standins/` of the source checkout this module runs from; BadInput when there is none (an installed wheel)."""
    checkout = Path(__file__).resolve().parents[3] / "standins"
    if not (checkout / "docker-compose.reference.yml").is_file():
        raise BadInput(
            "the reference image set (--images reference) is built from a lobestack source checkout "
            "(its standins/ folder); this installation has none: run from a clone, or use --images official"
        )
    return checkout


def context_hash(directory: Path, build_args: dict[str, str]) -> str:
    digest = hashlib.sha256(repr(sorted(build_args.items())).encode())
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part in _SKIP for part in rel.parts) or not path.is_file():
            continue
        digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def pinned(spec: ImageSpec, base_image: str = DEFAULT_BASE) -> str:
    """The image reference of this exact build context: `<repo>:ctx-<hash>`. A run starts its images by this name,
    so another checkout rebuilding the shared `:1` tag from other sources cannot change what a running stack
    gets."""
    wanted = context_hash(standins_dir() / spec.directory, {**spec.build_args, "BASE_IMAGE": base_image})
    return f"{spec.tag.rsplit(':', 1)[0]}:ctx-{wanted}"


def _drop_other_contexts(spec: ImageSpec, keep: str) -> None:
    """Remove this image's tags of other contexts (docker refuses while a container still uses one: left alone)."""
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


def ensure_images(
    specs: tuple[ImageSpec, ...] = REFERENCE_IMAGES,
    *,
    base_image: str = DEFAULT_BASE,
    extra_ca: Path | None = None,
    rebuild: bool = False,
    progress: Callable[[str], None] = print,
    timeout_s: int = 900,
) -> list[str]:
    """Build what is missing or stale; return the tags built."""
    root = standins_dir()
    if not _image_exists(base_image):
        raise BadInput(
            f"base image {base_image} is missing: run scripts/setup-host (it builds it with debootstrap), "
            "or set LOBESTACK_BASE_IMAGE=debian:bookworm-slim where a registry is reachable"
        )
    ca = extra_ca if extra_ca is not None else (HOST_CA_BUNDLE if HOST_CA_BUNDLE.exists() else None)
    built = []
    for spec in specs:
        directory = root / spec.directory
        wanted = context_hash(directory, {**spec.build_args, "BASE_IMAGE": base_image})
        ref = pinned(spec, base_image)
        if not rebuild and _image_exists(ref):
            if _image_label(spec.tag) != wanted:
                subprocess.run(["docker", "tag", ref, spec.tag], capture_output=True, timeout=30)
            progress(f"  image {spec.tag:34} up to date")
            continue
        ca_copy = directory / "extra-ca.pem"
        if ca is not None:
            shutil.copyfile(ca, ca_copy)
        else:
            ca_copy.write_text("")
        args = [
            "docker",
            "build",
            "--quiet",
            "--tag",
            spec.tag,
            "--tag",
            ref,
            "--label",
            f"{HASH_LABEL}={wanted}",
            "--build-arg",
            f"BASE_IMAGE={base_image}",
        ]
        for key, value in spec.build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        t0 = time.monotonic()
        progress(f"  image {spec.tag:34} building…")
        try:
            result = subprocess.run(
                [*args, str(directory)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env={**os.environ, "DOCKER_BUILDKIT": "0"},
            )
        except subprocess.TimeoutExpired:
            raise ImageBuildError(f"building {spec.tag} took over {timeout_s} s") from None
        finally:
            ca_copy.unlink(missing_ok=True)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise ImageBuildError(f"building {spec.tag} from {directory} failed:\n{tail}")
        progress(f"  image {spec.tag:34} built in {time.monotonic() - t0:.1f} s")
        _drop_other_contexts(spec, ref)
        built.append(spec.tag)
    return built
