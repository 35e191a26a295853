"""Training data read from the database: the live catalog through the catalog module."""

from __future__ import annotations

import uuid

from mercato.kernel.db import get_database
from mercato.modules.recommendations.db_source import load_catalog
from tests.factories import create_tenant, signup_and_login
from tests.jobs import run_queued_jobs

from .catalog_api import stock_the_catalog
from .shop import furniture, returning_shoppers
from .tracking_api import send_events


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


async def test_a_tenants_model_is_fitted_from_its_tracked_events(client) -> None:
    from mercato.modules.recommendations import fit_tenant
    from mercato.modules.recommendations.db_source import DatabaseSource, load_events

    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    rows = returning_shoppers()
    assert await send_events(client, owner.headers, tenant, rows) == len(rows)
    tenant_id = uuid.UUID(tenant)
    source = DatabaseSource(history_days=180)
    async with get_database().tenant_session(tenant_id) as session:
        events = await load_events(session, tenant_id, source.since())
    assert len(events) == len(rows)
    purchases = events.type == "purchase"
    assert purchases.any()
    assert (events.order_id[purchases] != "").all()

    first = await fit_tenant(tenant_id, source)
    assert first.version == 1
    assert first.users == 30
    assert first.products == len(furniture())
    assert (await fit_tenant(tenant_id, source)).skipped
    await send_events(client, owner.headers, tenant, [{**rows[0], "user_id": "someone-new"}])
    assert (await fit_tenant(tenant_id, source)).version == 2


async def test_the_periodic_job_refits_tenants_whose_data_changed(client) -> None:
    from mercato.kernel.jobs import defer
    from mercato.modules.recommendations.storage import latest_model

    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    await stock_the_catalog(client, owner.headers, tenant, furniture())
    await send_events(client, owner.headers, tenant, returning_shoppers())
    async with get_database().session() as session:
        await defer(session, "recommendations.fit_models", timestamp=0)
    await run_queued_jobs("models", concurrency=1)
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        model = await latest_model(session, uuid.UUID(tenant))
    assert model is not None
    assert model.version == 1
    assert model.users == 30
