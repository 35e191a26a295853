"""Demo data for the channels module: the alignment trail of a seeded category tree, a
Merchant Center link to the in-process Merchant API sandbox (`feeds/sandbox.py`), and the
demo's stores as Business Profile locations with store codes (so local inventory flows)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.crypto import seal
from mercato.kernel.events import interest_changed
from mercato.modules.catalog import CategoryAlignment
from mercato.modules.channels.feeds import sandbox
from mercato.modules.channels.google.oauth import TOKEN_PURPOSE
from mercato.modules.channels.models import (
    CategoryAlignmentAudit,
    GbpLocation,
    GoogleMerchantLink,
    GoogleOAuthLink,
)
from mercato.modules.locations import list_locations

SANDBOX_TOKEN_LIFETIME = timedelta(days=365)


async def record_alignment_trail(
    session: AsyncSession, tenant_id: uuid.UUID, aligned: list[CategoryAlignment], actor: str
) -> None:
    """An audit row for each aligned category that has none yet (source `demo`)."""
    recorded = set(await session.scalars(select(CategoryAlignmentAudit.category_id)))
    for row in aligned:
        if row.category_id not in recorded:
            session.add(
                CategoryAlignmentAudit(
                    tenant_id=tenant_id,
                    category_id=row.category_id,
                    category_path=row.path,
                    previous_google_category_id=None,
                    google_category_id=row.google_category_id,
                    source="demo",
                    actor=actor,
                )
            )
    await session.flush()


async def link_merchant_sandbox(session: AsyncSession, tenant_id: uuid.UUID, actor: str) -> str:
    """Link the tenant's Google account and Merchant Center to the sandbox; its account id."""
    session.add(
        GoogleOAuthLink(
            tenant_id=tenant_id,
            google_email=sandbox.GOOGLE_EMAIL,
            scopes=["https://www.googleapis.com/auth/content"],
            access_token_sealed=seal(
                sandbox.sandbox_access_token().encode(), purpose=TOKEN_PURPOSE
            ),
            refresh_token_sealed=None,
            access_token_expires_at=datetime.now(UTC) + SANDBOX_TOKEN_LIFETIME,
            linked_by=actor,
        )
    )
    session.add(
        GoogleMerchantLink(
            tenant_id=tenant_id,
            account_id=sandbox.ACCOUNT_ID,
            data_source_id=sandbox.DATA_SOURCE_ID,
            content_language="en",
            feed_label="US",
            daily_push=True,
        )
    )
    await session.flush()
    await interest_changed(session, tenant_id)
    return sandbox.ACCOUNT_ID


async def link_sandbox_stores(session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """Each active store location as a sandbox Business Profile location whose store code is
    the location's code, linked to it; returns how many (an existing one is kept)."""
    known = set(await session.scalars(select(GbpLocation.gbp_location_id)))
    linked = 0
    for location in await list_locations(session):
        if location.kind != "store":
            continue
        gbp_id = f"sandbox-{location.code}"
        if gbp_id not in known:
            session.add(
                GbpLocation(
                    tenant_id=tenant_id,
                    gbp_location_id=gbp_id,
                    account_id="sandbox",
                    title=location.name,
                    store_code=location.code,
                    location_code=location.code,
                    address=location.address,
                )
            )
        linked += 1
    await session.flush()
    return linked
