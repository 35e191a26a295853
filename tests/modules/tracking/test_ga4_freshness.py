"""A tenant whose GA4 imports stopped for more than a day is counted on `/metrics`, and
the merchant is told."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from mercato.kernel.events import subscribe
from mercato.modules.notifications.messages import render_message
from mercato.modules.tracking.freshness import GA4_STALE, alert_stale_tenants
from tests.jobs import run_queued_jobs
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


alerts: list[tuple[uuid.UUID, dict[str, Any]]] = []


@subscribe(GA4_STALE)
async def remember_alert(tenant_id: uuid.UUID, payload: dict[str, Any]) -> None:
    alerts.append((tenant_id, payload))


async def test_the_merchant_is_alerted_once_per_quiet_spell(client, owner_dsn) -> None:
    fresh, stale, stopped = [await new_shop(client) for _ in range(3)]
    finished_import(owner_dsn, fresh.tenant_id, "ga4_file", hours_ago=3)
    finished_import(owner_dsn, stale.tenant_id, "bigquery", hours_ago=30)
    finished_import(owner_dsn, stopped.tenant_id, "ga4_file", hours_ago=24 * 40)
    alerts.clear()
    assert await alert_stale_tenants() >= 1
    await run_queued_jobs("default")
    ours = [
        (t, p) for t, p in alerts if str(t) in (fresh.tenant_id, stale.tenant_id, stopped.tenant_id)
    ]
    [(tenant, payload)] = ours
    assert str(tenant) == stale.tenant_id
    assert (payload["source"], payload["hours"]) == ("bigquery", 30)
    assert payload["occurrence_id"].startswith("ga4-stale:")
    message = render_message(GA4_STALE, "de", tenant="Laden", payload=payload)
    assert "30 Stunden" in message.short
    assert "bigquery" in message.body
