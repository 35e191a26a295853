"""The daily BigQuery import of yesterday, its freshness per day, and the alert and banner
when the source stops (against the local fake of the BigQuery REST API)."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from mercato.kernel.db import get_database
from mercato.modules.tracking import freshness
from mercato.simulation import generate_catalog, generate_locations, simulate, write_ga4_export
from tests.fakes.server import serve
from tests.jobs import run_queued_jobs
from tests.modules.integrations.fakes import FakeGoogle, patched_settings, service_account_json
from tests.modules.tracking.helpers import Shop, new_shop
from tests.web.browser import signed_in


def _today_and_yesterday() -> tuple[datetime, date]:
    """Today's midnight (UTC) and yesterday, read when a test runs: a module constant read
    at collection is a day behind the server for a run that crosses midnight."""
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return end, (end - timedelta(days=1)).date()


def _export_rows(tmp_path: Any, end: datetime) -> tuple[list[dict[str, Any]], int]:
    catalog = generate_catalog(products=40, seed=5, until=end)
    events = list(
        simulate(
            catalog=catalog, locations=generate_locations(5), days=1, users=60, seed=5, end=end
        )
    )
    rows = []
    for path in write_ga4_export(events, tmp_path):
        with gzip.open(path) as lines:
            rows += [json.loads(line) for line in lines]
    return rows, len(events)


def _stored(owner_dsn: str, tenant_id: str) -> int:
    with psycopg.connect(owner_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM event WHERE tenant_id = %s AND source = 'bigquery'",
            (tenant_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


async def _configure(client, shop: Shop, google: FakeGoogle, url: str) -> None:
    put = await client.put(
        f"{shop.base}/integrations/bigquery",
        json={
            "project_id": "shop-analytics",
            "dataset": google.dataset,
            "credentials_json": service_account_json(f"{url}/token"),
        },
        headers=shop.owner.headers,
    )
    assert put.status_code == 201, put.text


async def _freshness_at(tenant: uuid.UUID, now: datetime) -> Any:
    async with get_database().tenant_session(tenant) as session:
        return await freshness.ga4_freshness(session, tenant, days=3, now=now)


async def test_yesterday_is_imported_daily_and_the_alert_fires_when_the_source_stops(
    client, owner_dsn, tmp_path
) -> None:
    now = datetime.now(UTC)
    end, day = _today_and_yesterday()
    rows, events = _export_rows(tmp_path, end)
    google = FakeGoogle(rows=rows)
    shop = await new_shop(client)
    tenant = uuid.UUID(shop.tenant_id)
    other = await new_shop(client)  # no BigQuery integration: never scheduled
    async with serve(google.app()) as url:
        with patched_settings(bigquery_api_endpoint=url, google_token_url=f"{url}/token"):
            await _configure(client, shop, google, url)
            assert await freshness.schedule_yesterday(tenant, now) is True
            assert await freshness.schedule_yesterday(uuid.UUID(other.tenant_id), now) is False
            assert await freshness.schedule_yesterday(tenant, now) is False  # one is waiting
            await run_queued_jobs("tracking")
            assert google.table_lookups == [f"events_{day:%Y%m%d}"]
            assert _stored(owner_dsn, shop.tenant_id) == events
            assert await freshness.schedule_yesterday(tenant, now) is False  # complete

            # A re-import of the day replaces it: nothing doubles.
            again = await client.post(
                f"{shop.base}/ingest/jobs",
                json={"source": "bigquery", "start": day.isoformat(), "end": day.isoformat()},
                headers=shop.owner.headers,
            )
            assert again.status_code == 202, again.text
            await run_queued_jobs("tracking")
            assert _stored(owner_dsn, shop.tenant_id) == events

            # The source stops: the next day's table never appears.
            tomorrow = now + timedelta(days=1)
            assert await freshness.schedule_yesterday(tenant, tomorrow) is True
            await run_queued_jobs("tracking")

    fresh = (await client.get(f"{shop.base}/ingest/freshness", headers=shop.owner.headers)).json()
    assert fresh["scheduled"] is True
    assert fresh["newest_complete_day"] == day.isoformat()
    assert fresh["stale_hours"] is None
    assert (fresh["days"][0]["day"], fresh["days"][0]["status"]) == (day.isoformat(), "complete")
    assert fresh["days"][1]["status"] == "missing"

    later = await _freshness_at(tenant, tomorrow)
    assert later.days[0].day == end.date()
    assert later.days[0].status == "failed"
    assert later.days[0].scheduled is True
    assert (
        later.days[0].error
        == f"BigQueryFailed: The GA4 export has no table events_{end:%Y%m%d} yet"
    )
    assert later.days[1].status == "complete"

    quiet = datetime.now(UTC) + timedelta(hours=30, minutes=5)  # after the last import
    assert (await _freshness_at(tenant, quiet)).stale_hours == 30
    assert await freshness.alert_if_stale(tenant, now=quiet) is True
    assert await freshness.alert_if_stale(tenant, now=now) is False


async def test_the_banner_shows_while_ga4_data_is_stale(client, owner_dsn) -> None:
    shop = await new_shop(client)
    finished_at = datetime.now(UTC) - timedelta(hours=50)
    covered = finished_at.date() - timedelta(days=1)  # read after the day had ended
    with psycopg.connect(owner_dsn) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (shop.tenant_id,))
        conn.execute(
            "INSERT INTO ingest_job (tenant_id, id, source, status, requested_by, options, "
            "counts, start, \"end\", finished_at) VALUES (%s, %s, 'bigquery', 'completed', "
            "'schedule', '{}', '{}', %s, %s, %s)",
            (shop.tenant_id, uuid.uuid4(), covered, covered, finished_at),
        )
    dashboard = await signed_in(client, shop.owner)
    page = await dashboard.get(f"/app/t/{shop.tenant_id}/tracking")
    assert page.status_code == 200
    assert 'data-banner="ga4-stale"' in page.text
    assert "nothing was imported for 50 hours" in page.text
    assert f"the newest complete day is {covered}" in page.text
    overview = await dashboard.get(f"/app/t/{shop.tenant_id}")
    assert 'data-banner="ga4-stale"' in overview.text

    fresh = await new_shop(client)
    dashboard = await signed_in(client, fresh.owner)
    page = await dashboard.get(f"/app/t/{fresh.tenant_id}/tracking")
    assert 'data-banner="ga4-stale"' not in page.text
    assert "none yet" in page.text
