"""A tenant whose GA4 imports stopped for more than a day is counted on `/metrics`."""

from __future__ import annotations

import uuid

import psycopg

from tests.metrics import scraped
from tests.modules.tracking.helpers import new_shop

STALE = "mercato_ga4_stale_tenants"


def finished_import(owner_dsn: str, tenant_id: str, source: str, hours_ago: float) -> None:
    with psycopg.connect(owner_dsn) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        conn.execute(
            "INSERT INTO ingest_job (tenant_id, id, source, status, requested_by, options, "
            "counts, finished_at) VALUES (%s, %s, %s, 'completed', 'test', '{}', '{}', "
            "now() - make_interval(secs => %s))",
            (tenant_id, uuid.uuid4(), source, hours_ago * 3600),
        )


async def test_stale_ga4_imports_count_until_a_fresh_one_lands(client, owner_dsn) -> None:
    shop = await new_shop(client)
    before = await scraped(client, STALE)
    finished_import(owner_dsn, shop.tenant_id, "ga4_file", hours_ago=30)
    assert await scraped(client, STALE) == before + 1
    finished_import(owner_dsn, shop.tenant_id, "bigquery", hours_ago=2)
    assert await scraped(client, STALE) == before


async def test_a_tenant_that_stopped_importing_a_month_ago_is_not_stale(client, owner_dsn) -> None:
    shop = await new_shop(client)
    before = await scraped(client, STALE)
    finished_import(owner_dsn, shop.tenant_id, "ga4_file", hours_ago=24 * 40)
    assert await scraped(client, STALE) == before
