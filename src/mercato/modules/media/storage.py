"""Where media bytes live: an interface and its three backends.

- `LocalStorage` (default): files under `DATA_DIR/media`, written atomically. Only for
  one machine (or a DATA_DIR/media every machine mounts): another machine's API process
  would not find the files.
- `BlobStorage` (`postgres`): the kernel's shared blob store in PostgreSQL, so every
  machine serves every upload without a bucket.
- `S3Storage`: any S3-compatible service (AWS, MinIO, R2…) configured by `MERCATO_S3_*`
  (the client is the kernel's, which the shared blob store uses too).

Keys look like `<tenant_id>/<media_id>/<rendition>.<ext>`; callers build them, backends
only store bytes.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mercato.kernel.blobs import BlobNotFound, SharedBlobs
from mercato.kernel.s3 import delete_prefix, s3_bucket, s3_client
from mercato.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class MediaStorage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def purge_tenant(self, tenant_id: uuid.UUID) -> int:
        """Delete every stored file of a purged tenant; returns how many."""
        ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"media key {key!r} leaves the storage root")
        return path

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, key, data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._read, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    @staticmethod
    def _remove_folder(folder: Path) -> int:
        if not folder.is_dir():
            return 0
        files = sum(1 for path in folder.rglob("*") if path.is_file())
        shutil.rmtree(folder)
        return files

    async def purge_tenant(self, tenant_id: uuid.UUID) -> int:
        return await asyncio.to_thread(self._remove_folder, self._path(str(tenant_id)))


class S3Storage:
    """boto3 is synchronous; each call runs in a worker thread."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _read(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self.prefix + key,
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._read, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self.client.delete_object, Bucket=self.bucket, Key=self.prefix + key
        )

    async def purge_tenant(self, tenant_id: uuid.UUID) -> int:
        return await asyncio.to_thread(
            delete_prefix, self.client, self.bucket, f"{self.prefix}{tenant_id}/"
        )


class BlobStorage:
    """Media as shared blobs in PostgreSQL, under their tenant (the key's first part)."""

    def __init__(self, blobs: SharedBlobs) -> None:
        self.blobs = blobs

    @staticmethod
    def _split(key: str) -> tuple[uuid.UUID, str]:
        tenant, _, rest = key.partition("/")
        return uuid.UUID(tenant), f"media/{rest}"

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield data

        tenant_id, blob_key = self._split(key)
        await self.blobs.put(tenant_id, blob_key, chunks(), content_type=content_type)

    async def get(self, key: str) -> bytes | None:
        tenant_id, blob_key = self._split(key)
        try:
            return b"".join([chunk async for chunk in self.blobs.read(tenant_id, blob_key)])
        except BlobNotFound:
            return None

    async def delete(self, key: str) -> None:
        tenant_id, blob_key = self._split(key)
        await self.blobs.delete(tenant_id, [blob_key])

    async def purge_tenant(self, tenant_id: uuid.UUID) -> int:
        """Nothing of its own: the blobs are tenant rows, deleted with the tenant's other
        rows (their S3 objects, if any, by `SharedBlobs.purge_tenant_objects`)."""
        return 0


def storage_for(settings: Settings) -> MediaStorage:
    if settings.media_storage == "s3":
        return S3Storage(s3_client(settings), s3_bucket(settings), settings.s3_prefix)
    if settings.media_storage == "postgres":
        return BlobStorage(SharedBlobs(settings.model_copy(update={"blob_storage": "postgres"})))
    return LocalStorage(Path(settings.data_dir) / "media")


@lru_cache(maxsize=1)
def get_storage() -> MediaStorage:
    """The configured backend, built once per process."""
    return storage_for(get_settings())
