"""`POST {T}/feed/precheck`: the tenant's products checked against Merchant Center's spec.

The same `FeedItem`s the push and the hosted feed use, so a product that passes here is
exactly one the feed carries. Ids asked for that are not live products are reported as
`unknown_product` errors rather than silently dropped.

Local inventory needs each store that holds the product linked to a Google Business Profile
store code (Google matches local inventory to stores by it): a product stocked at an
active location without one gets a `store_code_not_linked` warning naming the locations.
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
from mercato.modules.channels.feeds.stores import linked_stores
from mercato.modules.channels.taxonomy import loaded_taxonomy
from mercato.modules.inventory import available_by_location
from mercato.modules.locations import list_locations


async def precheck_products(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Collection[str] | None
) -> PrecheckResult:
    taxonomy = await loaded_taxonomy(session)
    known = taxonomy.known_ids if taxonomy else None
    result = PrecheckResult()
    seen: set[str] = set()
    unlinked = await _unlinked_stock(session, tenant_id, product_ids)
    async for item in feed_items(session, tenant_id, product_ids=product_ids):
        issues = check_item(item, known)
        if item.product_id in unlinked:
            issues.append(_store_code_warning(item.product_id, unlinked[item.product_id]))
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


async def _unlinked_stock(
    session: AsyncSession, tenant_id: uuid.UUID, product_ids: Collection[str] | None
) -> dict[str, list[str]]:
    """Product → active locations that stock it but have no linked GBP store code."""
    stores = await linked_stores(session, tenant_id)
    unlinked = {location.code for location in await list_locations(session)} - stores.keys()
    if not unlinked:
        return {}
    wanted = None if product_ids is None else sorted(product_ids)
    found: dict[str, list[str]] = {}
    for product_id, location_code in sorted(
        await available_by_location(session, tenant_id, wanted)
    ):
        if location_code in unlinked:
            found.setdefault(product_id, []).append(location_code)
    return found


def _store_code_warning(product_id: str, locations: list[str]) -> FeedIssue:
    return FeedIssue(
        product_id,
        "store_code",
        "warning",
        "store_code_not_linked",
        f"Stock at {', '.join(locations)} is not sent as local inventory: link each location "
        "to its Google Business Profile store code.",
    )
