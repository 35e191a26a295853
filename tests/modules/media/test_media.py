"""Media uploads: sniffing, metadata stripping, renditions, cache headers, isolation."""

from __future__ import annotations

import io

from PIL import Image

from tests.modules.catalog.factories import open_shop


def jpeg_with_exif(size: tuple[int, int] = (1200, 800)) -> bytes:
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x013B] = "Jane Doe, 59.33N 18.06E"  # Artist
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def png(size: tuple[int, int] = (300, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 128)).save(buffer, "PNG")
    return buffer.getvalue()


async def upload(client, shop, data: bytes, filename: str = "photo.png", content_type="image/png"):
    return await client.post(
        f"{shop.base}/media",
        files={"file": (filename, data, content_type)},
        headers=shop.owner.headers,
    )


async def test_upload_strips_metadata_and_makes_thumbnails(client) -> None:
    shop = await open_shop(client)
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif()  # the fixture really carries EXIF
    # The type comes from the bytes: a JPEG named .png and sent as text/plain is a JPEG.
    response = await upload(client, shop, original, "holiday.png", "text/plain")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (1200, 800)
    assert body["renditions"]["600"]["width"] == 600
    assert body["renditions"]["200"]["height"] == 133
    served = await client.get(body["url"].replace("http://127.0.0.1:8000", ""))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"]
    image = Image.open(io.BytesIO(served.content))
    assert dict(image.getexif()) == {}
    thumb = await client.get(body["renditions"]["200"]["url"].replace("http://127.0.0.1:8000", ""))
    assert Image.open(io.BytesIO(thumb.content)).size == (200, 133)
    again = await client.get(
        body["url"].replace("http://127.0.0.1:8000", ""),
        headers={"If-None-Match": served.headers["etag"]},
    )
    assert again.status_code == 304


async def test_non_images_are_415_whatever_their_name(client) -> None:
    shop = await open_shop(client)
    response = await upload(client, shop, b"<?php echo 'hi'; ?>", "cat.jpg", "image/jpeg")
    assert response.status_code == 415
    truncated = png()[:40]
    assert (await upload(client, shop, truncated)).status_code == 415


async def test_files_over_the_limit_are_413(client, monkeypatch) -> None:
    from mercato.modules.media import router, service
    from mercato.settings import get_settings

    shop = await open_shop(client)
    small = get_settings().model_copy(update={"media_max_bytes": 1_000})
    monkeypatch.setattr(service, "get_settings", lambda: small)
    monkeypatch.setattr(router, "get_settings", lambda: small)
    response = await upload(client, shop, png((600, 600)) + b"\0" * 2_000)
    assert response.status_code == 413


async def test_another_tenants_media_is_404_on_every_address(client) -> None:
    shop, other = await open_shop(client), await open_shop(client)
    body = (await upload(client, shop, png())).json()
    media_id = body["id"]
    path = body["url"].replace("http://127.0.0.1:8000", "")
    assert (await client.get(path)).status_code == 200
    assert (await client.get(path.replace(shop.tenant_id, other.tenant_id))).status_code == 404
    assert (
        await client.get(f"{other.base}/media/{media_id}", headers=other.owner.headers)
    ).status_code == 404
    assert (
        await client.delete(f"{other.base}/media/{media_id}", headers=other.owner.headers)
    ).status_code == 404
    listed = await client.get(f"{other.base}/media", headers=other.owner.headers)
    assert listed.json()["data"] == []


async def test_delete_removes_the_files(client) -> None:
    shop = await open_shop(client)
    body = (await upload(client, shop, png())).json()
    path = body["url"].replace("http://127.0.0.1:8000", "")
    response = await client.delete(f"{shop.base}/media/{body['id']}", headers=shop.owner.headers)
    assert response.status_code == 204
    assert (await client.get(path)).status_code == 404


async def test_a_small_file_declaring_a_huge_canvas_is_refused_before_decoding(
    client, owner_dsn
) -> None:
    """30 MP passed the old 40 MP cap: ~0.5 GB of work from a file of a few kilobytes."""
    import psycopg

    shop = await open_shop(client)
    buffer = io.BytesIO()
    Image.new("1", (6000, 5000)).save(buffer, "PNG")
    assert len(buffer.getvalue()) < 100_000
    response = await upload(client, shop, buffer.getvalue(), "bomb.png")
    assert response.status_code == 422
    assert response.json()["type"].endswith("/image-too-large")
    assert "the most is 100 MiB" in response.json()["detail"]
    with psycopg.connect(owner_dsn) as conn:
        stored = conn.execute(
            "SELECT count(*) FROM media_asset WHERE tenant_id = %s", (shop.tenant_id,)
        ).fetchone()
    assert stored == (0,)
    # A 24 MP camera photo still fits.
    photo = io.BytesIO()
    Image.new("L", (6000, 4000), 128).save(photo, "PNG")
    assert (await upload(client, shop, photo.getvalue(), "camera.png")).status_code == 201
