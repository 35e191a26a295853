"""Shared blobs: files one process writes and any other reads (fitted models, uploads
waiting for their import job), so no request or job depends on another machine's disk.

```python
blobs = shared_blobs()
await blobs.put_file(tenant_id, "reco/models/7/auto.npz", local_path)   # a worker
await blobs.download(tenant_id, "reco/models/7/auto.npz", scratch_path)  # an API process
```

Two stores, chosen by `MERCATO_BLOB_STORAGE` (`auto` = S3 when media go to S3):
- `postgres`: the bytes are `shared_blob_chunk` rows of 1 MiB, each written in its own short
  transaction and read back one query at a time, so neither side holds a whole file in
  memory, nor a transaction open while a client uploads slowly;
- `s3`: one object `<MERCATO_S3_PREFIX>/blobs/<tenant>/<blob id>` in the media bucket,
  written as a multipart upload of 8 MiB parts and read as a stream (a write whose
  process died leaves an unfinished multipart upload: give the bucket a lifecycle rule
  that aborts those after a day).

Either way the tenant's `shared_blob` row is the index (row-level security): a blob
exists for readers once its row is `ready`, which happens in the transaction that deletes
the key's previous version, so a reader never sees half a file. A blob's row records its
store, so blobs written before a change of `MERCATO_BLOB_STORAGE` stay readable.

Retention: callers delete what they no longer need (`delete`); a blob written with
`expires_at`, and a write abandoned midway (a crashed process, a dropped upload) once a
day old, are removed by `sweep`, which the daily retention job runs for every tenant.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, delete, func, select, update

from mercato.kernel.db import get_database
from mercato.kernel.logging import get_logger
from mercato.kernel.orm import uuid7
from mercato.kernel.s3 import delete_prefix, s3_bucket, s3_client
from mercato.kernel.tables import SharedBlob, SharedBlobChunk
from mercato.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = get_logger("mercato.blobs")

CHUNK_BYTES = 1 << 20
"""Bytes per `shared_blob_chunk` row, and per read from either store."""
S3_PART_BYTES = 8 << 20
"""Bytes per part of an S3 multipart upload (S3 wants at least 5 MiB but for the last)."""
ABANDONED_AFTER = timedelta(days=1)
"""A write not finished after this long is abandoned; `sweep` removes it."""
BLOB_BYTES = (SharedBlobChunk.__tablename__, "data")
"""The (table, column) holding blob bytes, for tools that copy tenant rows generically."""


class BlobNotFound(LookupError):
    """No ready blob under that key (never written, deleted, or replaced while read)."""


class BlobTooLarge(ValueError):
    """The bytes offered exceed the `limit` the caller allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size_bytes: int
    sha256: str | None
    content_type: str
    created_at: datetime
    expires_at: datetime | None


_INFO_COLUMNS = (
    SharedBlob.key,
    SharedBlob.size_bytes,
    SharedBlob.sha256,
    SharedBlob.content_type,
    SharedBlob.created_at,
    SharedBlob.expires_at,
)


def _info(row: Any) -> BlobInfo:
    return BlobInfo(*row[: len(_INFO_COLUMNS)])


Removed = list[tuple[uuid.UUID, str]]
"""Blobs whose rows were deleted: (id, store), for the bytes outside PostgreSQL."""


async def _record_size(tenant_id: uuid.UUID, blob_id: uuid.UUID, size: int) -> None:
    async with get_database().tenant_session(tenant_id) as session:
        await _set_size(session, tenant_id, blob_id, size)


async def _set_size(session: Any, tenant_id: uuid.UUID, blob_id: uuid.UUID, size: int) -> None:
    """Bytes written so far, so a quota counts uploads still in progress."""
    await session.execute(
        update(SharedBlob)
        .where(SharedBlob.tenant_id == tenant_id, SharedBlob.id == blob_id)
        .values(size_bytes=size)
    )


class _Writer(Protocol):
    async def part(self, seq: int, data: bytes, size_after: int) -> None: ...

    async def finish(self) -> None: ...

    async def abort(self) -> None: ...


class _Store(Protocol):
    name: str
    part_bytes: int

    def writer(self, tenant_id: uuid.UUID, blob_id: uuid.UUID) -> _Writer: ...

    def read(self, tenant_id: uuid.UUID, blob_id: uuid.UUID, size: int) -> AsyncIterator[bytes]: ...

    async def discard(self, tenant_id: uuid.UUID, blob_ids: Sequence[uuid.UUID]) -> None: ...


class _PostgresWriter:
    def __init__(self, tenant_id: uuid.UUID, blob_id: uuid.UUID) -> None:
        self.tenant_id, self.blob_id = tenant_id, blob_id

    async def part(self, seq: int, data: bytes, size_after: int) -> None:
        async with get_database().tenant_session(self.tenant_id) as session:
            session.add(
                SharedBlobChunk(tenant_id=self.tenant_id, blob_id=self.blob_id, seq=seq, data=data)
            )
            await session.flush()
            await _set_size(session, self.tenant_id, self.blob_id, size_after)

    async def finish(self) -> None:
        return None

    async def abort(self) -> None:
        return None  # deleting the blob's row deletes its chunks


class PostgresStore:
    name = "postgres"
    part_bytes = CHUNK_BYTES

    def writer(self, tenant_id: uuid.UUID, blob_id: uuid.UUID) -> _Writer:
        return _PostgresWriter(tenant_id, blob_id)

    async def read(
        self, tenant_id: uuid.UUID, blob_id: uuid.UUID, size: int
    ) -> AsyncIterator[bytes]:
        """The chunks in order, one short transaction each; a chunk missing before `size`
        bytes were read means the blob was deleted or replaced meanwhile."""
        read, seq = 0, 0
        while read < size:
            async with get_database().tenant_session(tenant_id) as session:
                data = await session.scalar(
                    select(SharedBlobChunk.data).where(
                        SharedBlobChunk.tenant_id == tenant_id,
                        SharedBlobChunk.blob_id == blob_id,
                        SharedBlobChunk.seq == seq,
                    )
                )
            if data is None:
                raise BlobNotFound(f"blob {blob_id} was removed while it was read")
            read += len(data)
            seq += 1
            yield data

    async def discard(self, tenant_id: uuid.UUID, blob_ids: Sequence[uuid.UUID]) -> None:
        return None


class _S3Writer:
    """A multipart upload begun at the first part; an empty blob is one empty object."""

    def __init__(self, store: S3Store, tenant_id: uuid.UUID, blob_id: uuid.UUID) -> None:
        self.store, self.tenant_id, self.blob_id = store, tenant_id, blob_id
        self.key = store.object_key(tenant_id, blob_id)
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []

    async def part(self, seq: int, data: bytes, size_after: int) -> None:
        client, bucket = self.store.client, self.store.bucket
        if self.upload_id is None:
            begun = await asyncio.to_thread(
                client.create_multipart_upload, Bucket=bucket, Key=self.key
            )
            self.upload_id = begun["UploadId"]
        sent = await asyncio.to_thread(
            client.upload_part,
            Bucket=bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=seq + 1,
            Body=data,
        )
        self.parts.append({"PartNumber": seq + 1, "ETag": sent["ETag"]})
        await _record_size(self.tenant_id, self.blob_id, size_after)

    async def finish(self) -> None:
        client, bucket = self.store.client, self.store.bucket
        if self.upload_id is None:
            await asyncio.to_thread(client.put_object, Bucket=bucket, Key=self.key, Body=b"")
            return
        await asyncio.to_thread(
            client.complete_multipart_upload,
            Bucket=bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},  # type: ignore[typeddict-item]
        )

    async def abort(self) -> None:
        if self.upload_id is not None:
            await asyncio.to_thread(
                self.store.client.abort_multipart_upload,
                Bucket=self.store.bucket,
                Key=self.key,
                UploadId=self.upload_id,
            )


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


class S3Store:
    """boto3 is synchronous: every call runs in a worker thread."""

    name = "s3"
    part_bytes = S3_PART_BYTES

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def object_key(self, tenant_id: uuid.UUID, blob_id: uuid.UUID) -> str:
        return f"{self.tenant_folder(tenant_id)}{blob_id}"

    def tenant_folder(self, tenant_id: uuid.UUID) -> str:
        return f"{self.prefix}blobs/{tenant_id}/"

    def writer(self, tenant_id: uuid.UUID, blob_id: uuid.UUID) -> _Writer:
        return _S3Writer(self, tenant_id, blob_id)

    async def read(
        self, tenant_id: uuid.UUID, blob_id: uuid.UUID, size: int
    ) -> AsyncIterator[bytes]:
        key = self.object_key(tenant_id, blob_id)
        try:
            response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            raise BlobNotFound(f"blob {blob_id} was removed while it was read") from None
        body = response["Body"]
        try:
            chunks = body.iter_chunks(CHUNK_BYTES)
            while (data := await asyncio.to_thread(_next_chunk, chunks)) is not None:
                yield data
        finally:
            body.close()

    async def discard(self, tenant_id: uuid.UUID, blob_ids: Sequence[uuid.UUID]) -> None:
        for blob_id in blob_ids:
            await asyncio.to_thread(
                self.client.delete_object,
                Bucket=self.bucket,
                Key=self.object_key(tenant_id, blob_id),
            )


def _store_name(settings: Settings) -> str:
    if settings.blob_storage == "auto":
        return "s3" if settings.media_storage == "s3" else "postgres"
    return settings.blob_storage


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while data := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield data
    finally:
        handle.close()


async def _parts(
    chunks: AsyncIterable[bytes], part_bytes: int, limit: int | None, digest: Any
) -> AsyncIterator[bytes]:
    """Whatever sizes arrive, regrouped into parts of `part_bytes` (the last one shorter)."""
    buffer, size = bytearray(), 0
    async for piece in chunks:
        size += len(piece)
        if limit is not None and size > limit:
            raise BlobTooLarge(limit)
        digest.update(piece)
        buffer += piece
        while len(buffer) >= part_bytes:
            yield bytes(buffer[:part_bytes])
            del buffer[:part_bytes]
    if buffer:
        yield bytes(buffer)


class SharedBlobs:
    """The deployment's blob store: the index in PostgreSQL, the bytes in `store`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._s3: S3Store | None = None
        self.store = self._store(_store_name(settings))

    def _store(self, name: str) -> _Store:
        if name == "postgres":
            return PostgresStore()
        if self._s3 is None:
            settings = self.settings
            self._s3 = S3Store(s3_client(settings), s3_bucket(settings), settings.s3_prefix)
        return self._s3

    async def put(
        self,
        tenant_id: uuid.UUID,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        limit: int | None = None,
        expires_at: datetime | None = None,
    ) -> BlobInfo:
        """Store the bytes of `chunks` under `key`, replacing what was there once all of
        them are stored; `BlobTooLarge` past `limit` bytes (nothing is kept then)."""
        database, blob_id, store = get_database(), uuid7(), self.store
        async with database.tenant_session(tenant_id) as session:
            session.add(
                SharedBlob(
                    tenant_id=tenant_id,
                    id=blob_id,
                    key=key,
                    store=store.name,
                    content_type=content_type,
                    expires_at=expires_at,
                )
            )
        writer, digest, size = store.writer(tenant_id, blob_id), hashlib.sha256(), 0
        try:
            async for seq, data in _enumerate(_parts(chunks, store.part_bytes, limit, digest)):
                size += len(data)
                await writer.part(seq, data, size)
            await writer.finish()
            stored, replaced = await self._publish(
                tenant_id, key, blob_id, size, digest.hexdigest()
            )
        except BaseException:
            await self._forget(tenant_id, blob_id, writer)
            raise
        await self._discard(tenant_id, replaced)
        return stored

    async def put_file(
        self, tenant_id: uuid.UUID, key: str, path: Path, **options: Any
    ) -> BlobInfo:
        """Store a local file, read 1 MiB at a time."""
        return await self.put(tenant_id, key, _file_chunks(path), **options)

    async def _publish(
        self, tenant_id: uuid.UUID, key: str, blob_id: uuid.UUID, size: int, sha256: str
    ) -> tuple[BlobInfo, Removed]:
        """Make the write readable and delete the key's previous version, at once."""
        async with get_database().tenant_session(tenant_id) as session:
            replaced = await session.execute(
                delete(SharedBlob)
                .where(SharedBlob.tenant_id == tenant_id, SharedBlob.key == key, SharedBlob.ready)
                .returning(SharedBlob.id, SharedBlob.store)
            )
            old = [(old_id, store) for old_id, store in replaced.all()]
            ready = await session.execute(
                update(SharedBlob)
                .where(SharedBlob.tenant_id == tenant_id, SharedBlob.id == blob_id)
                .values(ready=True, size_bytes=size, sha256=sha256)
                .returning(*_INFO_COLUMNS)
            )
            return _info(ready.one()), old

    async def _forget(self, tenant_id: uuid.UUID, blob_id: uuid.UUID, writer: _Writer) -> None:
        """Remove a write that failed; what cannot be removed now, `sweep` removes later."""
        try:
            await writer.abort()
            async with get_database().tenant_session(tenant_id) as session:
                await session.execute(
                    delete(SharedBlob).where(
                        SharedBlob.tenant_id == tenant_id, SharedBlob.id == blob_id
                    )
                )
        except Exception:
            log.warning("blob_write_not_cleaned", tenant_id=str(tenant_id), blob_id=str(blob_id))

    async def _discard(self, tenant_id: uuid.UUID, rows: Removed) -> None:
        """After their rows are gone: the bytes that live outside PostgreSQL."""
        by_store: dict[str, list[uuid.UUID]] = {}
        for blob_id, store in rows:
            by_store.setdefault(store, []).append(blob_id)
        for store, blob_ids in by_store.items():
            if store != PostgresStore.name:
                await self._store(store).discard(tenant_id, blob_ids)

    async def _ready_row(self, tenant_id: uuid.UUID, key: str) -> Any:
        async with get_database().tenant_session(tenant_id) as session:
            found = await session.execute(
                select(*_INFO_COLUMNS, SharedBlob.id, SharedBlob.store).where(
                    SharedBlob.tenant_id == tenant_id, SharedBlob.key == key, SharedBlob.ready
                )
            )
            return found.first()

    async def info(self, tenant_id: uuid.UUID, key: str) -> BlobInfo | None:
        row = await self._ready_row(tenant_id, key)
        return _info(row) if row is not None else None

    async def read(self, tenant_id: uuid.UUID, key: str) -> AsyncIterator[bytes]:
        """The blob's bytes, 1 MiB at a time; `BlobNotFound` when there is none."""
        row = await self._ready_row(tenant_id, key)
        if row is None:
            raise BlobNotFound(key)
        blob_id, store = row[len(_INFO_COLUMNS)], row[len(_INFO_COLUMNS) + 1]
        async for data in self._store(store).read(tenant_id, blob_id, row.size_bytes):
            yield data

    async def download(self, tenant_id: uuid.UUID, key: str, path: Path) -> None:
        """Write the blob to a local file (a scratch copy: the blob stays the original)."""
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            async for data in self.read(tenant_id, key):
                await asyncio.to_thread(handle.write, data)
        except BaseException:
            handle.close()
            partial.unlink(missing_ok=True)
            raise
        handle.close()
        await asyncio.to_thread(partial.replace, path)

    async def entries(self, tenant_id: uuid.UUID, prefix: str = "") -> list[BlobInfo]:
        """The ready blobs whose key starts with `prefix`, by key."""
        async with get_database().tenant_session(tenant_id) as session:
            rows = await session.execute(
                select(*_INFO_COLUMNS)
                .where(
                    SharedBlob.tenant_id == tenant_id,
                    SharedBlob.ready,
                    SharedBlob.key.startswith(prefix, autoescape=True),
                )
                .order_by(SharedBlob.key)
            )
            return [_info(row) for row in rows.all()]

    async def stored_bytes(
        self, tenant_id: uuid.UUID, prefix: str, *, replacing: str | None = None
    ) -> int:
        """Bytes under `prefix`, writes in progress included, the ready blob `replacing`
        (which a write in progress would replace) not."""
        query = select(func.coalesce(func.sum(SharedBlob.size_bytes), 0)).where(
            SharedBlob.tenant_id == tenant_id, SharedBlob.key.startswith(prefix, autoescape=True)
        )
        if replacing is not None:
            query = query.where(~(SharedBlob.ready & (SharedBlob.key == replacing)))
        async with get_database().tenant_session(tenant_id) as session:
            return int(await session.scalar(query) or 0)

    async def delete(self, tenant_id: uuid.UUID, keys: Sequence[str]) -> int:
        """Delete the ready blobs under `keys`; returns how many there were."""
        if not keys:
            return 0
        return await self._remove(tenant_id, SharedBlob.ready & SharedBlob.key.in_(keys))

    async def sweep(self, tenant_id: uuid.UUID, now: datetime | None = None) -> int:
        """Delete the tenant's expired blobs and abandoned writes; returns how many."""
        now = now or datetime.now(UTC)
        return await self._remove(
            tenant_id,
            (SharedBlob.expires_at < now)
            | (~SharedBlob.ready & (SharedBlob.created_at < now - ABANDONED_AFTER)),
        )

    async def purge_tenant_objects(self, tenant_id: uuid.UUID) -> int:
        """Delete every S3 object of a purged tenant's blobs; returns how many.

        The tenant's `shared_blob` rows went with its other rows, so the bucket is
        listed instead: that also finds objects whose row was lost. A deployment with a
        bucket sweeps it whatever `MERCATO_BLOB_STORAGE` says now, since blobs written
        before a change of store stay where they were written.
        """
        if not self.settings.s3_bucket:
            return 0
        s3 = self._store("s3")
        assert isinstance(s3, S3Store)
        return await asyncio.to_thread(
            delete_prefix, s3.client, s3.bucket, s3.tenant_folder(tenant_id)
        )

    async def _remove(self, tenant_id: uuid.UUID, which: ColumnElement[bool]) -> int:
        async with get_database().tenant_session(tenant_id) as session:
            removed = await session.execute(
                delete(SharedBlob)
                .where(SharedBlob.tenant_id == tenant_id, which)
                .returning(SharedBlob.id, SharedBlob.store)
            )
            rows = [(blob_id, store) for blob_id, store in removed.all()]
        await self._discard(tenant_id, rows)
        return len(rows)


async def _enumerate(items: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1


@lru_cache(maxsize=1)
def shared_blobs() -> SharedBlobs:
    """The deployment's blob store, built once per process from its settings."""
    return SharedBlobs(get_settings())
