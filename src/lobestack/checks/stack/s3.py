"""S3 through the public endpoint, as LobeChat and the browser use it: presigned PUT and GET round-trip the bytes,
CORS lets the app's origin upload and refuses a foreign one, and anonymous reads follow S3_SET_ACL. What these
checks write lives under `lobestack-probe/<run id>/` and is removed, even when a check fails."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator

from lobestack.checks.faults import Command, Recreate, SiteEdit, fault
from lobestack.checks.registry import EXPOSURE, Finding, Group
from lobestack.probes import ProbeError
from lobestack.probes.http import Response
from lobestack.probes.s3 import S3Endpoint, s3_error
from lobestack.targets.target import WRITES, Target

GROUP = Group("S3", layer="stack", title="S3 through the public endpoint")
PROBE_PREFIX = "lobestack-probe"
ROUND_TRIP_BYTES = 5 * 1024 * 1024
_MC = 'mc alias set probe http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null && mc anonymous'
# The bucket policy minio/init.sh sets for S3_SET_ACL=1 (bucket "lobe"): anonymous GetObject on the objects only.
READ_POLICY = (
    '{"Version": "2012-10-17", "Statement": [\n'
    '  {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"], '
    '"Resource": ["arn:aws:s3:::lobe/*"]}\n'
    "]}\n"
)
# Sets READ_POLICY again, as minio-init does (the JSON reaches the shell as its $0: no quoting to get wrong).
_SET_READ_POLICY = (
    "sh",
    "-c",
    f'printf %s "$0" > /tmp/lobestack-read.json && {_MC} set-json /tmp/lobestack-read.json probe/lobe',
    READ_POLICY,
)


def s3_of(target: Target) -> S3Endpoint:
    d = target.deployment
    return S3Endpoint(
        endpoint=d.app_env("S3_ENDPOINT").rstrip("/"),
        access_key=d.app_env("S3_ACCESS_KEY_ID"),
        secret_key=d.app_env("S3_SECRET_ACCESS_KEY"),
        region=d.app_env("S3_REGION") or "us-east-1",
    )


def bucket_of(target: Target) -> str:
    return target.deployment.app_env("S3_BUCKET") or "lobe"


def probe_key(target: Target, name: str) -> str:
    return f"{PROBE_PREFIX}/{target.run_id}/{secrets.token_hex(4)}-{name}"


@contextlib.contextmanager
def written(target: Target, key: str, data: bytes) -> Iterator[tuple[int, str]]:
    """PUT `data` at `key` with a presigned URL; yield (status, S3 error code); always DELETE it afterwards."""
    s3, bucket = s3_of(target), bucket_of(target)
    try:
        try:
            response = target.http.request("PUT", s3.presign("PUT", bucket, key), body=data)
            outcome = response.status, (s3_error(response.body) if response.status >= 300 else "")
        except ProbeError as exc:
            outcome = 0, str(exc)
        yield outcome
    finally:
        with contextlib.suppress(ProbeError):
            target.http.request("DELETE", s3.presign("DELETE", bucket, key))


@GROUP.check(
    "S3-ROUNDTRIP",
    title="a presigned PUT and GET of 5 MB through S3_ENDPOINT (SigV4, path style) round-trip the bytes",
    fix="the S3 vhost must pass the request to MinIO unchanged: `proxy_set_header Host $http_host` (SigV4 signs "
    "the host), `client_max_body_size 0`, no buffering, no rewrites",
    faults=[
        fault(
            SiteEdit("s3.conf", "proxy_set_header Host $http_host;", "proxy_set_header Host $proxy_host;"),
            expect="403 SignatureDoesNotMatch",
        ),
        fault(SiteEdit("s3.conf", "client_max_body_size 0;", "client_max_body_size 1m;"), expect="PUT answered 413"),
    ],
    needs=[WRITES],
    impact="breaks",
)
def round_trip(target: Target) -> Iterator[Finding]:
    data = os.urandom(ROUND_TRIP_BYTES)
    key = probe_key(target, "roundtrip.bin")
    where = f"{s3_of(target).endpoint}/{bucket_of(target)}/{key}"
    with written(target, key, data) as (status, problem):
        if status != 200:
            yield Finding(f"presigned PUT {where}: PUT answered {status} {problem}".rstrip())
            return
        try:
            response = target.http.get(s3_of(target).presign("GET", bucket_of(target), key))
        except ProbeError as exc:
            yield Finding(f"presigned GET {where}: {exc}")
            return
        if response.status != 200:
            yield Finding(f"presigned GET {where}: {response.status} {s3_error(response.body)}")
        elif hashlib.sha256(response.body).digest() != hashlib.sha256(data).digest():
            yield Finding(f"presigned GET {where}: {len(response.body)} bytes that differ from the {len(data)} put")


# An origin no deployment serves (.invalid never resolves): a preflight from it must be refused.
FOREIGN_ORIGIN = "https://lobestack-foreign.invalid"
_APP_ORIGIN_VALUE = "MINIO_API_CORS_ALLOW_ORIGIN: ${APP_URL:?set APP_URL in .env}"


@GROUP.check(
    "S3-CORS",
    title="a CORS preflight for a PUT to S3_ENDPOINT is allowed from APP_URL's origin, echoing exactly that origin, "
    "and refused from a foreign origin",
    fix="MINIO_API_CORS_ALLOW_ORIGIN = APP_URL's origin, scheme included (https://lobe.example.com); the browser "
    "uploads straight to S3_ENDPOINT. Never `*` (MinIO then echoes any origin, with credentials), no pattern that "
    "matches other sites, no empty entry (a trailing comma makes MinIO reject the list and allow every origin)",
    faults=[
        fault(
            Recreate(
                "docker-compose.yml",
                _APP_ORIGIN_VALUE,
                "MINIO_API_CORS_ALLOW_ORIGIN: lobe.test",
                ("minio", "minio-init"),
            ),
            expect="Access-Control-Allow-Origin None",
        ),
        fault(
            Recreate(
                "docker-compose.yml", _APP_ORIGIN_VALUE, 'MINIO_API_CORS_ALLOW_ORIGIN: "*"', ("minio", "minio-init")
            ),
            expect=f"from the foreign origin {FOREIGN_ORIGIN}: allowed",
        ),
        fault(  # MinIO rejects a list with an empty entry ("invalid cors value") and falls back to its default, *
            Recreate("docker-compose.yml", _APP_ORIGIN_VALUE, _APP_ORIGIN_VALUE + ",", ("minio", "minio-init")),
            expect=f"from the foreign origin {FOREIGN_ORIGIN}: allowed",
        ),
    ],
    impact="breaks",
)
def cors(target: Target) -> Iterator[Finding]:
    origin = target.deployment.app_env("APP_URL").rstrip("/")
    url = f"{s3_of(target).endpoint}/{bucket_of(target)}/{PROBE_PREFIX}/cors-preflight.bin"
    try:
        answers = {o: _preflight(target, url, o) for o in (origin, FOREIGN_ORIGIN)}
    except ProbeError as exc:
        yield Finding(f"OPTIONS {url}: {exc}")
        return
    response = answers[origin]
    allowed = response.header("access-control-allow-origin")
    methods = (response.header("access-control-allow-methods") or "PUT").upper()
    if response.status >= 300 or allowed != origin or "PUT" not in methods:
        yield Finding(
            f"preflight OPTIONS {url} from {origin}: {response.status}, Access-Control-Allow-Origin {allowed!r}, "
            f"Allow-Methods {methods!r}; expected {origin!r} allowing PUT"
        )
    foreign = answers[FOREIGN_ORIGIN]
    allowed = foreign.header("access-control-allow-origin")
    if foreign.status < 300 and allowed in (FOREIGN_ORIGIN, "*"):
        credentials = (foreign.header("access-control-allow-credentials") or "").lower() == "true"
        yield Finding(
            f"preflight OPTIONS {url} from the foreign origin {FOREIGN_ORIGIN}: allowed (Access-Control-Allow-Origin "
            f"{allowed!r}{', with credentials' if credentials else ''}): any web site's scripts can call S3 from a "
            "visitor's browser and read the answers (with MinIO: MINIO_API_CORS_ALLOW_ORIGIN is `*`, a pattern "
            "that matches every site, or a list MinIO rejected for an empty entry)",
            impact=EXPOSURE,
        )


def _preflight(target: Target, url: str, origin: str) -> Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type",
    }
    return target.http.request("OPTIONS", url, headers=headers)


@GROUP.check(
    "S3-PUBLIC-READ",
    title="anonymous GET at S3_PUBLIC_DOMAIN/<bucket>/<key> works when S3_SET_ACL is on, and is refused when off; "
    "anonymous listing of the bucket is always refused",
    fix="with S3_SET_ACL=1 LobeChat links files at S3_PUBLIC_DOMAIN: the bucket needs an anonymous-read policy for "
    "its objects only (s3:GetObject on <bucket>/*, set by minio-init with `mc anonymous set-json`; not `mc anonymous "
    "set download`, which also lets anyone list every file's name); with 0 it must not be public",
    faults=[
        fault(
            Command("minio", ("sh", "-c", f"{_MC} set none probe/lobe"), _SET_READ_POLICY),
            expect="anonymous GET answered 403",
        ),
        fault(
            Command("minio", ("sh", "-c", f"{_MC} set download probe/lobe"), _SET_READ_POLICY),
            expect="anonymous listing of the bucket answered 200",
        ),
    ],
    needs=[WRITES],
    impact="breaks",
)
def public_read(target: Target) -> Iterator[Finding]:
    acl_on = target.deployment.app_env("S3_SET_ACL") not in ("0", "false")
    public = target.deployment.app_env("S3_PUBLIC_DOMAIN").rstrip("/") or s3_of(target).endpoint
    key = probe_key(target, "public.txt")
    with written(target, key, b"lobestack public-read probe\n") as (status, problem):
        if status != 200:
            yield Finding(f"could not write the probe object: PUT answered {status} {problem}".rstrip())
            return
        url = f"{public}/{bucket_of(target)}/{key}"
        try:
            response = target.http.get(url)
        except ProbeError as exc:
            yield Finding(f"anonymous GET {url}: {exc}")
            return
        if acl_on and response.status != 200:
            yield Finding(
                f"S3_SET_ACL is on, but anonymous GET answered {response.status} {s3_error(response.body)} at {url}"
            )
        elif not acl_on and response.status == 200:
            yield Finding(
                f"S3_SET_ACL is off, but anonymous GET answered 200 at {url}: the bucket is public", impact=EXPOSURE
            )
        listing = f"{public}/{bucket_of(target)}/?list-type=2&max-keys=1"
        try:
            listed = target.http.get(listing)
        except ProbeError as exc:
            yield Finding(f"anonymous GET {listing}: {exc}")
            return
        if listed.status == 200:
            yield Finding(
                f"anonymous listing of the bucket answered 200 at {listing}: anyone can read every file's name (the "
                "policy grants s3:ListBucket, as `mc anonymous set download` does)",
                impact=EXPOSURE,
            )
