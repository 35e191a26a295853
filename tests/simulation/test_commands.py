"""`mercato simulate`, through the function the CLI calls."""

from __future__ import annotations

from mercato.kernel.db import get_database
from mercato.modules.identity import resolve_tenant
from mercato.simulation import simulate_into
from tests.modules.tracking.helpers import new_shop, stored_types


async def test_simulating_twice_stores_each_event_once(client, owner_dsn) -> None:
    shop = await new_shop(client)
    database = get_database()
    tenant = await resolve_tenant(database, shop.tenant_id)
    first = await simulate_into(database, tenant, days=2, users=60, products=40, seed=3)
    again = await simulate_into(database, tenant, days=2, users=60, products=40, seed=3)
    assert first.accepted > 100
    assert (again.accepted, again.duplicates) == (0, first.accepted)
    assert sum(stored_types(owner_dsn, shop.tenant_id, "simulator").values()) == first.accepted
