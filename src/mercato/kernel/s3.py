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
