"""Media: image uploads, renditions and storage (local filesystem or S3-compatible).

Public surface: `upload_media(session, storage, tenant_id=…, data=…, filename=…)` to
store an image, `media_url(asset, rendition)` for its public address, and
`get_storage()` for the configured backend.
"""

from mercato.modules.media.service import media_url, upload_media
from mercato.modules.media.storage import MediaStorage, get_storage

__all__ = ["MediaStorage", "get_storage", "media_url", "upload_media"]
