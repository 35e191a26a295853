"""The shared blob store: streamed in and out in chunks, tenant scoped, replaced atomically,
deleted and swept; in PostgreSQL and in an S3-compatible bucket (a local fake)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from mercato.kernel.blobs import (
    CHUNK_BYTES,
    BlobNotFound,
    BlobTooLarge,
    PostgresStore,
    S3Store,
    SharedBlobs,
)
from mercato.kernel.s3 import s3_client
from tests.fakes.s3 import fake_s3

BUCKET = "mercato-blobs"


@pytest.fixture(scope="module")
def s3_blobs() -> Iterator[SharedBlobs]:
    with fake_s3(BUCKET, "media") as settings:
        yield SharedBlobs(settings)


@pytest.fixture(params=["postgres", "s3"])
def blobs(request: pytest.FixtureRequest, app, settings) -> SharedBlobs:
    if request.param == "s3":
        store: SharedBlobs = request.getfixturevalue("s3_blobs")
        assert isinstance(store.store, S3Store)
        return store
    store = SharedBlobs(settings)
    assert isinstance(store.store, PostgresStore)
    return store


async def _pieces(data: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _read(blobs: SharedBlobs, tenant: uuid.UUID, key: str) -> bytes:
    return b"".join([data async for data in blobs.read(tenant, key)])


async def test_a_blob_is_stored_in_chunks_and_read_back_whole(blobs: SharedBlobs) -> None:
    tenant = uuid.uuid4()
    data = os.urandom(2 * CHUNK_BYTES + 12_345)
    info = await blobs.put(tenant, "models/1/auto.npz", _pieces(data), content_type="x/npz")
    assert info.size_bytes == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.content_type == "x/npz"
    chunks = [chunk async for chunk in blobs.read(tenant, "models/1/auto.npz")]
    assert b"".join(chunks) == data
    assert max(len(chunk) for chunk in chunks) <= CHUNK_BYTES
    assert len(chunks) >= 3  # streamed, not one piece


async def test_another_tenant_never_sees_a_blob(blobs: SharedBlobs) -> None:
    owner, other = uuid.uuid4(), uuid.uuid4()
    await blobs.put(owner, "uploads/a.csv", _pieces(b"id\n1\n"))
    assert await blobs.info(other, "uploads/a.csv") is None
    assert await blobs.entries(other) == []
    with pytest.raises(BlobNotFound):
        await _read(blobs, other, "uploads/a.csv")
    assert await blobs.delete(other, ["uploads/a.csv"]) == 0
    assert await _read(blobs, owner, "uploads/a.csv") == b"id\n1\n"


async def test_a_write_replaces_the_key_and_leaves_nothing_behind(
    blobs: SharedBlobs, owner_dsn: str
) -> None:
    tenant = uuid.uuid4()
    await blobs.put(tenant, "ga4/events_20250301.json", _pieces(b"old" * 1000))
    await blobs.put(tenant, "ga4/events_20250301.json", _pieces(b"new"))
    await blobs.put(tenant, "ga4/events_20250302.json", _pieces(b""))
    assert await _read(blobs, tenant, "ga4/events_20250301.json") == b"new"
    assert await _read(blobs, tenant, "ga4/events_20250302.json") == b""
    listed = await blobs.entries(tenant, "ga4/")
    assert [(b.key, b.size_bytes) for b in listed] == [
        ("ga4/events_20250301.json", 3),
        ("ga4/events_20250302.json", 0),
    ]
    assert await blobs.stored_bytes(tenant, "ga4/") == 3
    assert await blobs.stored_bytes(tenant, "ga4/", replacing="ga4/events_20250301.json") == 0
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM shared_blob WHERE tenant_id = %s", (tenant,)
        ).fetchone()
    assert rows == (2,)


async def test_a_write_past_its_limit_keeps_nothing(blobs: SharedBlobs, owner_dsn: str) -> None:
    tenant = uuid.uuid4()
    with pytest.raises(BlobTooLarge):
        await blobs.put(tenant, "ga4/big.json", _pieces(os.urandom(CHUNK_BYTES * 2)), limit=10)
    assert await blobs.info(tenant, "ga4/big.json") is None
    with psycopg.connect(owner_dsn) as conn:
        for table in ("shared_blob", "shared_blob_chunk"):
            count = conn.execute(
                f"SELECT count(*) FROM {table} WHERE tenant_id = %s",
                (tenant,),
            ).fetchone()
            assert count == (0,), table


async def test_files_go_in_and_come_out_as_files(blobs: SharedBlobs, tmp_path: Path) -> None:
    tenant = uuid.uuid4()
    source = tmp_path / "model.npz"
    source.write_bytes(os.urandom(CHUNK_BYTES + 1))
    await blobs.put_file(tenant, "reco/models/3/auto.npz", source)
    copy = tmp_path / "elsewhere" / "auto.npz"
    await blobs.download(tenant, "reco/models/3/auto.npz", copy)
    assert copy.read_bytes() == source.read_bytes()
    assert [p.name for p in copy.parent.iterdir()] == ["auto.npz"]
    with pytest.raises(BlobNotFound):
        await blobs.download(tenant, "reco/models/4/auto.npz", tmp_path / "missing.npz")
    assert not (tmp_path / "missing.npz").exists()


async def test_deleted_and_expired_blobs_and_abandoned_writes_go(
    blobs: SharedBlobs, owner_dsn: str
) -> None:
    tenant = uuid.uuid4()
    now = datetime.now(UTC)
    await blobs.put(tenant, "keep", _pieces(b"k"))
    await blobs.put(tenant, "gone", _pieces(b"g"))
    await blobs.put(tenant, "expiring", _pieces(b"e"), expires_at=now + timedelta(hours=1))
    assert await blobs.delete(tenant, ["gone", "never-there"]) == 1
    assert await blobs.info(tenant, "gone") is None
    with psycopg.connect(owner_dsn) as conn:  # a write whose process died two days ago
        conn.execute(
            "INSERT INTO shared_blob (tenant_id, id, key, store, content_type, created_at)"
            " VALUES (%s, %s, 'crashed', 'postgres', 'x', now() - interval '2 days')",
            (tenant, uuid.uuid4()),
        )
    assert await blobs.sweep(tenant, now) == 1  # the abandoned write; nothing expired yet
    assert await blobs.sweep(tenant, now + timedelta(hours=2)) == 1
    assert [b.key for b in await blobs.entries(tenant)] == ["keep"]


async def test_s3_blobs_are_objects_under_the_prefix(s3_blobs: SharedBlobs, app) -> None:
    tenant = uuid.uuid4()
    await s3_blobs.put(tenant, "k", _pieces(b"bytes"))
    client = s3_client(s3_blobs.settings)
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert any(key.startswith(f"media/blobs/{tenant}/") for key in keys)
