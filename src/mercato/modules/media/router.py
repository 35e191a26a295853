"""Media routes: tenant upload/list/describe/delete, and the public file route.

`GET /media/{tenant_id}/{media_id}/{rendition}.{ext}` needs no credential (product images
are shown on storefronts and fetched by Google), so the uuid4 in the address is the
capability; the row is looked up within the tenant of the path, so another tenant's id
answers 404. Files never change under an address, hence a year of immutable caching.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status

from mercato.kernel.db import get_database
from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.identity import require
from mercato.modules.media import service
from mercato.modules.media.models import MediaAsset
from mercato.modules.media.schemas import MediaList, MediaRead, RenditionRead
from mercato.modules.media.storage import get_storage
from mercato.settings import get_settings

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}", tags=["media"])
public_router = APIRouter(tags=["media"])

CACHE_FOREVER = "public, max-age=31536000, immutable"


def media_read(asset: MediaAsset) -> MediaRead:
    return MediaRead(
        id=asset.id,
        url=service.media_url(asset),
        content_type=asset.content_type,
        width=asset.width,
        height=asset.height,
        byte_size=asset.byte_size,
        original_filename=asset.original_filename,
        renditions={
            name: RenditionRead(
                url=service.media_url(asset, name),
                width=info["width"],
                height=info["height"],
                byte_size=info["byte_size"],
            )
            for name, info in asset.renditions.items()
        },
        created_at=asset.created_at,
    )


@router.post("/media", status_code=status.HTTP_201_CREATED, response_model=MediaRead)
async def upload_media(
    file: Annotated[UploadFile, File(description="A JPEG, PNG, GIF or WebP image")],
    principal: Annotated[TenantPrincipal, require(Permission.CATALOG_WRITE)],
    session: DbSession,
) -> MediaRead:
    """Upload an image: re-encoded without metadata, with 600 and 200 px renditions."""
    data = await file.read(get_settings().media_max_bytes + 1)
    asset = await service.upload_media(
        session, get_storage(), tenant_id=principal.tenant_id, data=data, filename=file.filename
    )
    return media_read(asset)


@router.get("/media", response_model=MediaList)
async def list_media(
    principal: Annotated[TenantPrincipal, require(Permission.CATALOG_READ)],
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1_000)] = None,
) -> MediaList:
    rows, next_cursor = await service.list_media(session, limit=limit, cursor=cursor)
    return MediaList(data=[media_read(row) for row in rows], next_cursor=next_cursor)


@router.get("/media/{media_id}", response_model=MediaRead)
async def get_media(
    media_id: uuid.UUID,
    principal: Annotated[TenantPrincipal, require(Permission.CATALOG_READ)],
    session: DbSession,
) -> MediaRead:
    return media_read(await service.get_media(session, principal.tenant_id, media_id))


@router.delete("/media/{media_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_media(
    media_id: uuid.UUID,
    principal: Annotated[TenantPrincipal, require(Permission.CATALOG_WRITE)],
    session: DbSession,
    meta: Meta,
) -> Response:
    await service.delete_media(session, get_storage(), principal, media_id, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@public_router.get("/media/{tenant_id}/{media_id}/{filename}", response_class=Response)
async def serve_media(
    tenant_id: uuid.UUID, media_id: uuid.UUID, filename: str, request: Request
) -> Response:
    """The image bytes, with immutable cache headers and ETag revalidation."""
    async with get_database().tenant_session(tenant_id) as session:
        served = await service.read_rendition(
            session, get_storage(), tenant_id=tenant_id, media_id=media_id, filename=filename
        )
    headers = {"Cache-Control": CACHE_FOREVER, "ETag": served.etag}
    if request.headers.get("if-none-match") == served.etag:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(served.data, media_type=served.content_type, headers=headers)
