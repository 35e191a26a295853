"""Media: image uploads, renditions and storage (local filesystem or S3-compatible).

Public surface: `upload_media(session, storage, tenant_id=…, data=…, filename=…)` to
store an image, `media_url(asset, rendition)` for its public address, and
`get_storage()` for the configured backend, `purge_tenant_media(tenant_id)` to delete a
purged tenant's stored files.
"""

import uuid

from mercato.modules.media.service import media_url, upload_media
from mercato.modules.media.storage import MediaStorage, get_storage


async def purge_tenant_media(tenant_id: uuid.UUID) -> int:
    """Delete every stored file of a purged tenant from the configured backend; returns
    how many. Idempotent: a second run finds nothing."""
    return await get_storage().purge_tenant(tenant_id)


__all__ = ["MediaStorage", "get_storage", "media_url", "purge_tenant_media", "upload_media"]
