"""A BigQuery ingestion job against a local fake of the BigQuery REST API.

The fake serves what `write_ga4_export` wrote for a simulated day, in BigQuery's wire
format (f/v rows with a schema), so the client library decodes real nested records.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg

from mercato.modules.tracking.bigquery_source import EVENT_GROUPS, build_query
from mercato.simulation import generate_catalog, generate_locations, simulate, write_ga4_export
from tests.fakes.server import serve
from tests.jobs import run_queued_jobs
from tests.modules.integrations.fakes import FakeGoogle, patched_settings, service_account_json
from tests.modules.tracking.helpers import new_shop

END = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAY = (END - timedelta(days=1)).date()


def test_the_query_reads_only_the_wildcard_tables_and_binds_its_filters() -> None:
    query = build_query("shop-analytics", "analytics_123")
    assert "FROM `shop-analytics.analytics_123.events_*`" in query
    assert "_TABLE_SUFFIX BETWEEN @start_suffix AND @end_suffix" in query
    assert "event_name IN UNNEST(@event_names)" in query
    names = [name for group in EVENT_GROUPS.values() for name in group]
    assert len(EVENT_GROUPS) == 6
    assert len(names) == len(set(names))


async def test_a_bigquery_import_stores_the_exported_day(client, owner_dsn, tmp_path) -> None:
    catalog = generate_catalog(products=80, seed=11, until=END)
    events = list(
        simulate(
            catalog=catalog, locations=generate_locations(11), days=1, users=150, seed=11, end=END
        )
    )
    rows = []
    for path in write_ga4_export(events, tmp_path):
        with gzip.open(path) as lines:
            rows += [json.loads(line) for line in lines]
    google = FakeGoogle(rows=rows)
    shop = await new_shop(client)
    async with serve(google.app()) as url:
        with patched_settings(bigquery_api_endpoint=url, google_token_url=f"{url}/token"):
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
            created = await client.post(
                f"{shop.base}/ingest/jobs",
                json={"source": "bigquery", "start": DAY.isoformat(), "end": DAY.isoformat()},
                headers=shop.owner.headers,
            )
            assert created.status_code == 202, created.text
            await run_queued_jobs("tracking")
    job = (
        await client.get(
            f"{shop.base}/ingest/jobs/{created.json()['id']}", headers=shop.owner.headers
        )
    ).json()
    assert job["status"] == "completed", job
    assert len(google.queries) == 6
    with psycopg.connect(owner_dsn) as conn:
        stored = dict(
            conn.execute(
                "SELECT type, count(*) FROM event "
                "WHERE tenant_id = %s AND source = 'bigquery' GROUP BY type",
                (shop.tenant_id,),
            ).fetchall()
        )
    assert Counter(stored) == Counter(e["type"] for e in events)
    assert job["counts"]["rows"] == len(rows)
