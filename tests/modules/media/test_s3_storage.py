"""The S3 backend against a local S3-compatible server (moto), through the upload route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mercato.kernel.s3 import s3_client
from mercato.modules.media.storage import S3Storage, storage_for
from tests.fakes.s3 import fake_s3
from tests.modules.catalog.factories import open_shop
from tests.modules.media.test_media import png

BUCKET = "mercato-media"


@pytest.fixture(scope="module")
def s3_settings() -> Iterator[object]:
    with fake_s3(BUCKET, "media") as settings:
        yield settings


async def test_s3_storage_round_trip(s3_settings) -> None:
    backend = storage_for(s3_settings)
    assert isinstance(backend, S3Storage)
    await backend.put("t/m/original.png", b"bytes", "image/png")
    assert await backend.get("t/m/original.png") == b"bytes"
    stored = s3_client(s3_settings).list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [item["Key"] for item in stored] == ["media/t/m/original.png"]
    await backend.delete("t/m/original.png")
    assert await backend.get("t/m/original.png") is None


async def test_uploads_are_stored_in_and_served_from_s3(client, s3_settings, monkeypatch) -> None:
    backend = storage_for(s3_settings)
    monkeypatch.setattr("mercato.modules.media.router.get_storage", lambda: backend)
    shop = await open_shop(client)
    response = await client.post(
        f"{shop.base}/media",
        files={"file": ("a.png", png(), "image/png")},
        headers=shop.owner.headers,
    )
    assert response.status_code == 201, response.text
    keys = [
        item["Key"] for item in s3_client(s3_settings).list_objects_v2(Bucket=BUCKET)["Contents"]
    ]
    assert f"media/{shop.tenant_id}/{response.json()['id']}/200.png" in keys
    served = await client.get(response.json()["url"].replace("http://127.0.0.1:8000", ""))
    assert served.status_code == 200
    assert served.content.startswith(b"\x89PNG")
