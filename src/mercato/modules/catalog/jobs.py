"""Catalog jobs: importing a product file uploaded in the dashboard."""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.kernel.jobs import task
from mercato.modules.catalog import importer


@task("catalog.import_upload", queue="default", timeout_s=3_600, retry=2)
async def import_upload(*, tenant_id: str, import_id: str) -> None:
    """Import one uploaded file; a retry continues after the chunks already committed."""
    await importer.run_upload(get_database(), uuid.UUID(tenant_id), uuid.UUID(import_id))
