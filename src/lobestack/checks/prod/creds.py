"""Well-known credentials are refused at the public S3 endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.config import Config

from lobestack.checks.faults import EnvSet, fault
from lobestack.checks.registry import Finding, Group
from lobestack.probes import ProbeError
from lobestack.probes.s3 import s3_error
from lobestack.targets.target import Target

GROUP = Group("CREDS", layer="prod", title="Default and leaked credentials")
# MinIO's root credentials when none are set (and in countless copied compose files).
MINIO_DEFAULT = ("minioadmin", "minioadmin")


def presigned_list_buckets(endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1") -> str:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return client.generate_presigned_url("list_buckets", ExpiresIn=300)


@GROUP.check(
    "CREDS-MINIO-DEFAULT",
    title="S3_ENDPOINT refuses MinIO's well-known root credentials (minioadmin:minioadmin): a SigV4-signed "
    "ListBuckets with them answers 403",
    fix="set MINIO_ROOT_USER and MINIO_ROOT_PASSWORD to fresh random values (`python -m lobestack init` does) and "
    "recreate minio; anyone who can reach S3_ENDPOINT can otherwise read and delete every file",
    faults=[
        fault(
            EnvSet("MINIO_ROOT_USER", MINIO_DEFAULT[0], ("minio", "minio-init")),
            EnvSet("MINIO_ROOT_PASSWORD", MINIO_DEFAULT[1], ("minio", "minio-init")),
            expect="accepts MinIO's default root credentials",
        )
    ],
    impact="exposure",
)
def minio_default(target: Target) -> Iterator[Finding]:
    endpoint = target.deployment.app_env("S3_ENDPOINT") or target.deployment.env.get("S3_ENDPOINT")
    region = target.deployment.app_env("S3_REGION") or "us-east-1"
    url = presigned_list_buckets(endpoint, *MINIO_DEFAULT, region=region)
    try:
        response = target.http.get(url)
    except ProbeError as exc:
        yield Finding(f"ListBuckets at {endpoint}: {exc}")
        return
    if response.status == 200:
        yield Finding(f"{endpoint} accepts MinIO's default root credentials: ListBuckets signed with them answered 200")
    elif response.status != 403:
        yield Finding(
            f"ListBuckets at {endpoint} signed with the default credentials answered {response.status} "
            f"{s3_error(response.body)}, expected 403 (refused)"
        )
