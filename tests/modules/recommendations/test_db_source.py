"""Training data read from the database: the live catalog through the catalog module."""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.modules.recommendations.db_source import load_catalog
from tests.factories import create_tenant, signup_and_login

from .catalog_api import stock_the_catalog
from .shop import furniture


async def test_the_catalog_is_read_as_columns_without_deleted_products(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    gone = await client.delete(f"/api/v1/tenants/{tenant}/products/lamp", headers=owner.headers)
    assert gone.status_code == 204
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        catalog = await load_catalog(session, uuid.UUID(tenant))
    ids = list(catalog.product_id)
    assert "lamp" not in ids
    assert len(ids) == len(furniture()) - 1
    chair = ids.index("oak-chair")
    assert catalog.name[chair] == "Oak Chair"
    assert catalog.category[chair] == "Furniture > Chairs"
    assert catalog.price[chair] == 100.0
    assert "material oak" in catalog.attributes[chair]
    assert catalog.available.all()
