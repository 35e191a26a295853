"""Pages written by the system rather than a principal (the demo shop's)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.content.models import ContentPage, ContentPageRevision
from mercato.modules.content.rendering import render_markdown

SYSTEM_AUTHOR = "system"


async def seed_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    slug: str,
    title: str,
    body: str,
    publish_at: datetime,
    seo_description: str,
) -> bool:
    """A published page (live from `publish_at`) with its first revision, authored by the
    system; nothing happens when the slug is taken. True when the page was added."""
    if await session.scalar(select(ContentPage.id).where(ContentPage.slug == slug)) is not None:
        return False
    page = ContentPage(
        tenant_id=tenant_id,
        slug=slug,
        title=title,
        body=body,
        html=render_markdown(body),
        status="published",
        publish_at=publish_at,
        seo_title=title,
        seo_description=seo_description,
        noindex=False,
        revision=1,
        created_by=SYSTEM_AUTHOR,
        updated_by=SYSTEM_AUTHOR,
    )
    session.add(page)
    await session.flush()
    session.add(
        ContentPageRevision(
            tenant_id=tenant_id,
            page_id=page.id,
            revision=1,
            snapshot={"slug": slug, "title": title, "body": body, "status": "published"},
            author=SYSTEM_AUTHOR,
        )
    )
    return True
