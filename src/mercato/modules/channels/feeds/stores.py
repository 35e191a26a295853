"""The stores a tenant advertises local inventory for: its active locations that a Google
Business Profile location is linked to, each under the GBP store code.

Google matches a `LocalInventory` to a store by `storeCode`, so a location without a linked
GBP store code cannot carry local inventory (the precheck says so). A location archived in
Mercato, or unlinked from its GBP location, stops being a store here: the next sync deletes
its local inventories.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.channels.models import GbpLocation
from mercato.modules.locations import list_locations


async def linked_stores(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, str]:
    """Active location code → GBP store code, for locations linked to a GBP store code."""
    active = {location.code for location in await list_locations(session)}
    rows = await session.execute(
        select(GbpLocation.location_code, GbpLocation.store_code)
        .where(
            GbpLocation.tenant_id == tenant_id,
            GbpLocation.location_code.is_not(None),
            GbpLocation.store_code.is_not(None),
        )
        .order_by(GbpLocation.location_code, GbpLocation.store_code)
    )
    stores: dict[str, str] = {}
    for location_code, store_code in rows:
        if location_code in active and store_code and location_code not in stores:
            stores[location_code] = store_code.strip()
    return stores
