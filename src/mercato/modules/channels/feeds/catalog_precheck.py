"""`POST {T}/feed/precheck`: the tenant's products checked against Merchant Center's spec.

The same `FeedItem`s the push and the hosted feed use, so a product that passes here is
exactly one the feed carries. Ids asked for that are not live products are reported as
`unknown_product` errors rather than silently dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.channels.feeds.precheck import (
    FeedIssue,
    PrecheckResult,
    blocks_item,
    check_item,
)
from mercato.modules.channels.feeds.source import feed_items
from mercato.modules.channels.taxonomy import loaded_taxonomy


async def precheck_products(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Collection[str] | None
) -> PrecheckResult:
    taxonomy = await loaded_taxonomy(session)
    known = taxonomy.known_ids if taxonomy else None
    result = PrecheckResult()
    seen: set[str] = set()
    async for item in feed_items(session, tenant_id, product_ids=product_ids):
        issues = check_item(item, known)
        seen.add(item.product_id)
        result.checked += 1
        if blocks_item(issues):
            result.invalid += 1
        else:
            result.valid += 1
        result.issues.extend(issues)
    for missing in sorted(set(product_ids or ()) - seen):
        result.checked += 1
        result.invalid += 1
        result.issues.append(
            FeedIssue(missing, "id", "error", "unknown_product", "No live product has this id.")
        )
    return result
