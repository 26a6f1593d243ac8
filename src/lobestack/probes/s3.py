"""S3 through the public endpoint: requests presigned with botocore (SigV4, path style, like LobeChat's AWS SDK
client and MinIO's clients), sent through the target's own HTTP probe so names resolve and TLS verifies as the
target says."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config


@dataclass(frozen=True)
class S3Endpoint:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def presign(self, method: str, bucket: str, key: str, expires_s: int = 300) -> str:
        operation = {"PUT": "put_object", "GET": "get_object", "DELETE": "delete_object"}[method]
        return self.presign_operation(operation, {"Bucket": bucket, "Key": key}, expires_s)

    def presign_operation(self, operation: str, params: dict[str, object], expires_s: int = 300) -> str:
        """A presigned URL for any S3 operation (e.g. `list_objects_v2`, `get_bucket_policy`, both GETs)."""
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        return client.generate_presigned_url(operation, Params=params, ExpiresIn=expires_s)


def s3_error(body: bytes) -> str:
    """The `<Code>` of an S3 error document, or the first bytes of the body."""
    text = body.decode("utf-8", errors="replace")
    start, end = text.find("<Code>"), text.find("</Code>")
    if start >= 0 and end > start:
        return text[start + 6 : end]
    return " ".join(text.split())[:80]
