"""Catalog writes for the demo seed, which acts as the system rather than a principal:
Google categories by path and listing dates spread over time, each in one statement."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def media_image_urls(session: AsyncSession) -> dict[str, str]:
    """product_id → image URL, for the products whose image is stored by the media module."""
    rows = await session.execute(
        text("SELECT product_id, image_url FROM product WHERE image_url LIKE '%/media/%'")
    )
    return {product_id: url for product_id, url in rows}


async def align_google_categories(
    session: AsyncSession, tenant_id: uuid.UUID, google_by_path: Mapping[str, int]
) -> None:
    """Set the Google category of each category whose lower-cased path is a key."""
    aligned = [{"path": path, "google": google} for path, google in google_by_path.items()]
    await session.execute(
        text(
            "UPDATE category c SET google_category_id = a.google "
            "FROM jsonb_to_recordset(CAST(:aligned AS jsonb)) AS a(path text, google int) "
            "WHERE c.tenant_id = :tenant_id AND lower(c.path) = a.path"
        ),
        {"aligned": json.dumps(aligned), "tenant_id": tenant_id},
    )


async def backdate_products(
    session: AsyncSession, tenant_id: uuid.UUID, listed_at: Mapping[str, datetime]
) -> None:
    """Set when each product (by product_id) was listed, so a seeded shop has a history."""
    listed = [{"product_id": pid, "at": at.isoformat()} for pid, at in listed_at.items()]
    await session.execute(
        text(
            "UPDATE product p SET created_at = l.at "
            "FROM jsonb_to_recordset(CAST(:listed AS jsonb)) "
            "AS l(product_id text, at timestamptz) "
            "WHERE p.tenant_id = :tenant_id AND p.product_id = l.product_id"
        ),
        {"listed": json.dumps(listed), "tenant_id": tenant_id},
    )
