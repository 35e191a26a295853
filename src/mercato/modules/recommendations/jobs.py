"""Recommendation jobs: cached lists dropped when the catalog changes.

A product renamed, repriced, sold out or deleted must not linger in cached lists for
their 5-minute lifetime, so every `product.*` event bumps the tenant's cache generation.
"""

from __future__ import annotations

import uuid
from typing import Any

from mercato.kernel.events import subscribe
from mercato.modules.recommendations.cache import invalidate_recommendations

CATALOG_EVENTS = ("product.created", "product.updated", "product.deleted")


async def drop_cached_lists(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Any change to products: every cached list of the tenant becomes stale."""
    await invalidate_recommendations(tenant_id)


for _event in CATALOG_EVENTS:
    subscribe(_event)(drop_cached_lists)
