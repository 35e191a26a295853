"""The S3-compatible client of a deployment (`MERCATO_S3_*`): media and shared blobs use it.

boto3 comes with the `s3` extra; a deployment without it fails where S3 is first used,
with the install command in the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mercato.kernel.extras import needs_extra
from mercato.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef


def s3_client(settings: Settings) -> S3Client:
    with needs_extra("s3", "S3 storage (MERCATO_MEDIA_STORAGE=s3)"):
        import boto3

    secret = settings.s3_secret_access_key
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
    )
    return client


def s3_bucket(settings: Settings) -> str:
    """The configured bucket; S3 storage without one is a configuration error."""
    if not settings.s3_bucket:
        raise RuntimeError("MERCATO_MEDIA_STORAGE=s3 needs MERCATO_S3_BUCKET")
    return settings.s3_bucket


class S3DeleteFailed(RuntimeError):
    """The bucket refused to delete some objects (their count is in the message, never
    what the server said)."""


def delete_prefix(client: S3Client, bucket: str, prefix: str) -> int:
    """Delete every object whose key starts with `prefix`, a folder (`…/`); returns how
    many. Pages of 1,000 keys, S3's most per request. Blocking: run it in a thread.

    Listing goes on by key, so deleting a page does not shift the next one; a failure
    halfway leaves the rest in place, and running it again finishes the job.
    """
    if not prefix.endswith("/"):
        raise ValueError(f"not a folder prefix: {prefix!r}")
    deleted = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys: list[ObjectIdentifierTypeDef] = [
            {"Key": item["Key"]} for item in page.get("Contents", [])
        ]
        if not keys:
            continue
        answer = client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        if answer.get("Errors"):
            raise S3DeleteFailed(f"{len(answer['Errors'])} objects under {prefix} were not deleted")
        deleted += len(keys)
    return deleted
