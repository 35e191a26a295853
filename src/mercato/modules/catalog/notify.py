"""What the catalog announces when products change, and the cache it keeps honest.

Domain events (`mercato.kernel.events`), each with payload `{"product_ids": [...]}` so a
bulk import emits one event per chunk instead of one per row:

- `product.created` — new products (or deleted ones put back by a PUT/import);
- `product.updated` — changed products, including a category rename or move;
- `product.deleted` — soft-deleted products.

Cached snapshots of the same products are dropped once the transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.events import emit
from mercato.modules.catalog.cache import forget_products

PRODUCT_CREATED = "product.created"
PRODUCT_UPDATED = "product.updated"
PRODUCT_DELETED = "product.deleted"


async def products_changed(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    created: Sequence[str] = (),
    updated: Sequence[str] = (),
    deleted: Sequence[str] = (),
) -> None:
    """Emit the events of a change in the session's transaction and invalidate after commit."""
    for event, ids in (
        (PRODUCT_CREATED, created),
        (PRODUCT_UPDATED, updated),
        (PRODUCT_DELETED, deleted),
    ):
        if ids:
            await emit(session, tenant_id, event, {"product_ids": list(ids)})
    changed = [*created, *updated, *deleted]
    if changed:

        async def invalidate() -> None:
            await forget_products(tenant_id, changed)

        after_commit(session, invalidate)
