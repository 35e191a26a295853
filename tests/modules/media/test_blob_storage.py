"""`MERCATO_MEDIA_STORAGE=postgres`: media as shared blobs, served by any machine."""

from __future__ import annotations

import uuid

from mercato.kernel.blobs import shared_blobs
from mercato.modules.media.storage import BlobStorage, storage_for
from tests.modules.catalog.factories import open_shop
from tests.modules.media.test_media import png, upload


async def test_uploads_are_stored_in_and_served_from_postgresql(
    client, settings, monkeypatch
) -> None:
    backend = storage_for(settings.model_copy(update={"media_storage": "postgres"}))
    assert isinstance(backend, BlobStorage)
    monkeypatch.setattr("mercato.modules.media.router.get_storage", lambda: backend)
    shop = await open_shop(client)
    response = await upload(client, shop, png())
    assert response.status_code == 201, response.text
    media_id = response.json()["id"]
    tenant_id = uuid.UUID(shop.tenant_id)
    stored = {blob.key for blob in await shared_blobs().entries(tenant_id, "media/")}
    assert {f"media/{media_id}/{name}.png" for name in ("original", "600", "200")} <= stored

    path = response.json()["url"].replace("http://127.0.0.1:8000", "")
    served = await client.get(path)
    assert served.status_code == 200
    assert served.content.startswith(b"\x89PNG")

    deleted = await client.delete(f"{shop.base}/media/{media_id}", headers=shop.owner.headers)
    assert deleted.status_code == 204
    assert not await shared_blobs().entries(tenant_id, "media/")
    assert (await client.get(path)).status_code == 404
