"""A purge deletes the tenant's stored files too (media, shared blobs' S3 objects), never
another tenant's, and a retry after a failure halfway finishes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest

from mercato.kernel.blobs import shared_blobs
from mercato.kernel.s3 import s3_client
from mercato.modules.media.storage import LocalStorage, get_storage
from mercato.modules.platform.jobs import purge_rows_then_files
from mercato.modules.platform.tenants import PurgeWindowOpen
from mercato.settings import Settings
from tests.factories import create_tenant, signup_and_login
from tests.fakes.s3 import fake_s3
from tests.jobs import run_queued_jobs
from tests.modules.integrations.fakes import patched_settings
from tests.modules.media.test_media import png

BUCKET = "mercato-purge"
PLATFORM = "/api/v1/platform"


@pytest.fixture
def s3_everywhere() -> Iterator[Settings]:
    """Media and shared blobs in one local S3 bucket, as a deployment on S3 has them."""
    with fake_s3(BUCKET, "shop") as settings:
        secret = settings.s3_secret_access_key
        assert settings.s3_endpoint_url
        assert settings.s3_access_key_id
        assert secret
        with patched_settings(
            media_storage="s3",
            blob_storage="s3",
            s3_endpoint_url=settings.s3_endpoint_url,
            s3_bucket=BUCKET,
            s3_access_key_id=settings.s3_access_key_id,
            s3_secret_access_key=secret.get_secret_value(),
            s3_prefix="shop",
        ):
            get_storage.cache_clear()
            shared_blobs.cache_clear()
            try:
                yield settings
            finally:
                get_storage.cache_clear()
                shared_blobs.cache_clear()


def _keys(settings: Settings) -> list[str]:
    listed = s3_client(settings).list_objects_v2(Bucket=BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


async def _one_chunk() -> AsyncIterator[bytes]:
    yield b"model bytes"


async def _tenant_with_files(client) -> tuple[object, str]:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    upload = await client.post(
        f"/api/v1/tenants/{tenant}/media",
        files={"file": ("a.png", png(), "image/png")},
        headers=owner.headers,
    )
    assert upload.status_code == 201, upload.text
    await shared_blobs().put(uuid.UUID(tenant), "reco/models/1/auto.npz", _one_chunk())
    return owner, tenant


def _expire(owner_dsn: str, tenant: str) -> None:
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE tenant SET status = 'deleted', deleted_at = now() - interval '31 days' "
            "WHERE id = %s",
            (tenant,),
        )


async def test_a_purge_deletes_the_tenants_objects_and_no_others(
    client, operator, owner_dsn, s3_everywhere
) -> None:
    _, doomed = await _tenant_with_files(client)
    _, kept = await _tenant_with_files(client)
    before = _keys(s3_everywhere)
    assert any(key.startswith(f"shop/{doomed}/") for key in before)  # media renditions
    assert any(key.startswith(f"shop/blobs/{doomed}/") for key in before)
    kept_keys = sorted(key for key in before if kept in key)
    assert len(kept_keys) >= 2

    _expire(owner_dsn, doomed)
    accepted = await client.post(f"{PLATFORM}/tenants/{doomed}/purge", headers=operator.headers)
    assert accepted.status_code == 202, accepted.text
    await run_queued_jobs("maintenance")

    after = _keys(s3_everywhere)
    assert [key for key in after if doomed in key] == []
    assert sorted(key for key in after if kept in key) == kept_keys


async def test_a_retry_after_the_rows_are_gone_finishes_the_files(
    client, owner_dsn, s3_everywhere
) -> None:
    _, doomed = await _tenant_with_files(client)
    _expire(owner_dsn, doomed)
    await purge_rows_then_files(uuid.UUID(doomed))
    # What a storage outage halfway would have left behind:
    s3_client(s3_everywhere).put_object(Bucket=BUCKET, Key=f"shop/{doomed}/m/200.png", Body=b"x")
    await purge_rows_then_files(uuid.UUID(doomed))
    assert [key for key in _keys(s3_everywhere) if doomed in key] == []


async def test_a_tenant_not_past_its_window_keeps_its_files(client, s3_everywhere) -> None:
    _, live = await _tenant_with_files(client)
    before = sorted(key for key in _keys(s3_everywhere) if live in key)
    with pytest.raises(PurgeWindowOpen):
        await purge_rows_then_files(uuid.UUID(live))
    assert sorted(key for key in _keys(s3_everywhere) if live in key) == before


async def test_local_storage_removes_only_the_tenants_folder(tmp_path) -> None:
    storage, doomed, kept = LocalStorage(tmp_path), uuid.uuid4(), uuid.uuid4()
    for tenant in (doomed, kept):
        for rendition in ("original", "200"):
            await storage.put(f"{tenant}/m/{rendition}.png", b"x", "image/png")
    assert await storage.purge_tenant(doomed) == 2
    assert not (tmp_path / str(doomed)).exists()
    assert await storage.get(f"{kept}/m/200.png") == b"x"
    assert await storage.purge_tenant(doomed) == 0
