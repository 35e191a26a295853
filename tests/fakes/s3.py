"""A local S3-compatible server (moto) and the settings that point the S3 stores at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from mercato.kernel.s3 import s3_client
from mercato.settings import Settings, get_settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def fake_s3(bucket: str, prefix: str) -> Iterator[Settings]:
    """Settings with `MEDIA_STORAGE=s3` on a fresh local server whose `bucket` exists."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        settings = get_settings().model_copy(
            update={
                "media_storage": "s3",
                "s3_endpoint_url": f"http://127.0.0.1:{port}",
                "s3_bucket": bucket,
                "s3_access_key_id": "test-key",
                "s3_secret_access_key": get_settings().secret_key,
                "s3_prefix": prefix,
            }
        )
        s3_client(settings).create_bucket(Bucket=bucket)
        yield settings
    finally:
        server.stop()
