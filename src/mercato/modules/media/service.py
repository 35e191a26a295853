"""Upload, describe, serve and delete media assets of a tenant."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import NotFound, PayloadTooLarge
from mercato.kernel.pagination import newest_first
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import record_audit
from mercato.modules.media.models import MediaAsset
from mercato.modules.media.processing import process_image
from mercato.modules.media.storage import MediaStorage
from mercato.settings import get_settings


class MediaNotFound(NotFound):
    slug, title = "media-not-found", "No such media"


def storage_key(tenant_id: uuid.UUID, media_id: uuid.UUID, rendition: str, extension: str) -> str:
    return f"{tenant_id}/{media_id}/{rendition}.{extension}"


def media_url(asset: MediaAsset, rendition: str = "original") -> str:
    """The public, cacheable address of a rendition (unguessable: it holds a uuid4)."""
    base = get_settings().public_url.rstrip("/")
    return f"{base}/media/{asset.tenant_id}/{asset.id}/{rendition}.{asset.extension}"


async def upload_media(
    session: AsyncSession,
    storage: MediaStorage,
    *,
    tenant_id: uuid.UUID,
    data: bytes,
    filename: str | None,
) -> MediaAsset:
    """Store an image and its renditions; 413 over the size limit, 415 for non-images.

    Bytes are written before the row: a failed transaction leaves unreferenced files
    (never served, since serving starts from the row), never a row without files.
    """
    limit = get_settings().media_max_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"Images are limited to {limit:,} bytes")
    processed = await asyncio.to_thread(process_image, data)
    asset = MediaAsset(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        content_type=processed.content_type,
        extension=processed.extension,
        width=processed.original.width,
        height=processed.original.height,
        byte_size=len(processed.original.data),
        sha256=processed.original.sha256,
        original_filename=(filename or "")[:255] or None,
        renditions={
            r.name: {
                "width": r.width,
                "height": r.height,
                "byte_size": len(r.data),
                "sha256": r.sha256,
            }
            for r in processed.renditions
        },
    )
    for rendition in processed.renditions:
        key = storage_key(tenant_id, asset.id, rendition.name, asset.extension)
        await storage.put(key, rendition.data, processed.content_type)
    session.add(asset)
    await session.flush()
    return asset


async def get_media(session: AsyncSession, tenant_id: uuid.UUID, media_id: uuid.UUID) -> MediaAsset:
    asset = await session.get(MediaAsset, (tenant_id, media_id))
    if asset is None:
        raise MediaNotFound("No such media in this tenant")
    return asset


async def list_media(
    session: AsyncSession, *, limit: int | None, cursor: str | None
) -> tuple[list[MediaAsset], str | None]:
    """Newest first; the session's tenant scope (RLS) selects the tenant."""
    query = select(MediaAsset)
    return await newest_first(session, query, limit=limit, cursor=cursor)


async def delete_media(
    session: AsyncSession,
    storage: MediaStorage,
    principal: TenantPrincipal,
    media_id: uuid.UUID,
    meta: RequestMeta,
) -> None:
    """Delete the row now and the files once that commits (a rollback keeps both)."""
    asset = await get_media(session, principal.tenant_id, media_id)
    keys = [
        storage_key(asset.tenant_id, asset.id, name, asset.extension) for name in asset.renditions
    ]
    await session.delete(asset)
    await session.flush()
    await record_audit(
        session,
        tenant_id=principal.tenant_id,
        actor=principal,
        action="media.deleted",
        target=str(media_id),
        meta=meta,
    )

    async def remove_files() -> None:
        for key in keys:
            await storage.delete(key)

    after_commit(session, remove_files)


@dataclass(frozen=True)
class ServedMedia:
    data: bytes
    content_type: str
    etag: str


async def read_rendition(
    session: AsyncSession,
    storage: MediaStorage,
    *,
    tenant_id: uuid.UUID,
    media_id: uuid.UUID,
    filename: str,
) -> ServedMedia:
    """The bytes of `<rendition>.<ext>` of a tenant's asset; 404 for anything else."""
    rendition, _, extension = filename.partition(".")
    asset = await session.get(MediaAsset, (tenant_id, media_id))
    if asset is None or extension != asset.extension or rendition not in asset.renditions:
        raise MediaNotFound("No such media")
    data = await storage.get(storage_key(tenant_id, media_id, rendition, extension))
    if data is None:
        raise MediaNotFound("The media file is missing from storage")
    etag = asset.renditions[rendition].get("sha256") or hashlib.sha256(data).hexdigest()
    return ServedMedia(data, asset.content_type, f'"{etag}"')
