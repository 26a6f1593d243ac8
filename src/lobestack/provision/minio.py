"""MinIO as `minio-init` leaves it (step 4.3 of the guide): LobeChat's bucket, its anonymous-read policy when
S3_SET_ACL=1 (none when 0), and LobeChat's own key. Verified read-only through S3_ENDPOINT, as LobeChat reaches it:
a listing signed with LobeChat's key (the key exists and may list its bucket), and the bucket policy read with
MinIO's root credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from lobestack.deployment import Deployment
from lobestack.probes import ProbeError
from lobestack.probes.http import HttpProbe
from lobestack.probes.s3 import S3Endpoint, s3_error

FIX = "run `docker compose up minio-init` (it creates the bucket, the policy and LobeChat's key from .env)"


def _endpoint(d: Deployment, key: str, secret: str) -> S3Endpoint:
    return S3Endpoint(d.app_env("S3_ENDPOINT"), key, secret, d.app_env("S3_REGION") or "us-east-1")


def _public_read(policy: dict[str, Any], bucket: str) -> bool:
    """Does the policy let anyone `s3:GetObject` every object of `bucket` (what `mc anonymous set download` sets)?"""

    def as_list(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    for statement in as_list(policy.get("Statement") or []):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS")))
        actions = {str(a) for a in as_list(statement.get("Action"))}
        resources = {str(r) for r in as_list(statement.get("Resource"))}
        if anyone and actions & {"s3:GetObject", "s3:*"} and f"arn:aws:s3:::{bucket}/*" in resources:
            return True
    return False


def verify(d: Deployment, http: HttpProbe) -> Iterator[str]:
    """What is wrong with the bucket, its policy or LobeChat's key (nothing when all is as minio-init makes it)."""
    bucket = d.app_env("S3_BUCKET") or "lobe"
    lobe = _endpoint(d, d.app_env("S3_ACCESS_KEY_ID"), d.app_env("S3_SECRET_ACCESS_KEY"))
    url = lobe.presign_operation("list_objects_v2", {"Bucket": bucket, "MaxKeys": 1})
    try:
        response = http.get(url)
    except ProbeError as exc:
        yield f"{lobe.endpoint}: {exc}"
        return
    if response.status != 200:
        code = s3_error(response.body)
        what = {
            "NoSuchBucket": f"bucket {bucket!r} does not exist",
            "InvalidAccessKeyId": "LobeChat's key (S3_ACCESS_KEY_ID) is unknown to MinIO",
            "SignatureDoesNotMatch": "MinIO refuses S3_SECRET_ACCESS_KEY for S3_ACCESS_KEY_ID",
            "AccessDenied": f"LobeChat's key may not list bucket {bucket!r}",
        }.get(code, f"listing bucket {bucket!r} with LobeChat's key answered {response.status} {code}")
        yield what
        return
    root = _endpoint(d, d.env.get("MINIO_ROOT_USER"), d.env.get("MINIO_ROOT_PASSWORD"))
    try:
        response = http.get(root.presign_operation("get_bucket_policy", {"Bucket": bucket}))
    except ProbeError as exc:
        yield f"{root.endpoint}: {exc}"
        return
    if response.status == 200:
        try:
            policy = json.loads(response.body)
        except ValueError:
            policy = {}
    elif s3_error(response.body) == "NoSuchBucketPolicy":
        policy = {}
    else:
        code = s3_error(response.body)
        yield f"reading bucket {bucket!r}'s policy with MinIO's root user answered {response.status} {code}"
        return
    wanted = (d.app_env("S3_SET_ACL") or "1") == "1"
    if wanted and not _public_read(policy if isinstance(policy, dict) else {}, bucket):
        yield f"bucket {bucket!r} has no anonymous-read policy, but S3_SET_ACL=1 (LobeChat links files publicly)"
    elif not wanted and _public_read(policy if isinstance(policy, dict) else {}, bucket):
        yield f"bucket {bucket!r} is anonymously readable, but S3_SET_ACL=0"
