"""Import GA4 events straight from the merchant's BigQuery export (`events_YYYYMMDD` tables).

Six queries run in parallel, one per group of GA4 event names (as the GA4 intelligence
design does), each reading only its events of the date range from the wildcard table
`events_*`. Pages of rows stream from worker threads through a bounded queue to one
writer, so memory stays flat whatever the range. Rows are dicts shaped like the export
(nested records as dicts, repeated fields as lists), mapped by `ga4.map_ga4_row`.

The wildcard reads no rows of a day whose table GA4 has not exported yet, which would
look like a quiet day; the daily scheduled import (`require_tables`) first checks that
each day's `events_YYYYMMDD` table exists and fails without it, so the day stays missing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.extras import needs_extra
from mercato.modules.integrations import (
    BigQueryFailed,
    bigquery_client,
    bigquery_credentials,
    bigquery_errors,
)
from mercato.modules.tracking.ga4 import GA4RowError, map_ga4_row
from mercato.modules.tracking.import_batches import (
    ImportCounts,
    RangeWriter,
    replace_range,
    retention_days,
)

SOURCE = "bigquery"
PAGE_SIZE = 10_000
QUEUE_PAGES = 12
EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "views": ("view_item",),
    "carts": ("add_to_cart", "remove_from_cart"),
    "purchases": ("begin_checkout", "purchase"),
    "searches": ("view_search_results", "search"),
    "lists": ("view_item_list", "view_promotion", "select_item", "select_promotion"),
    "pages": ("page_view",),
}
COLUMNS = (
    "event_date",
    "event_timestamp",
    "event_name",
    "event_params",
    "user_id",
    "user_pseudo_id",
    "device",
    "geo",
    "traffic_source",
    "ecommerce",
    "items",
)


def build_query(project_id: str, dataset: str) -> str:
    """The query for one group; dates and names are parameters, never spliced in."""
    return (
        f"SELECT {', '.join(COLUMNS)} "  # noqa: S608 - identifiers validated by the integration
        f"FROM `{project_id}.{dataset}.events_*` "
        "WHERE _TABLE_SUFFIX BETWEEN @start_suffix AND @end_suffix "
        "AND event_name IN UNNEST(@event_names) "
        "ORDER BY event_timestamp"
    )


def query_parameters(start: date, end: date, names: tuple[str, ...]) -> list[Any]:
    with needs_extra("bigquery", "BigQuery imports"):
        from google.cloud import bigquery

    return [
        bigquery.ScalarQueryParameter("start_suffix", "STRING", start.strftime("%Y%m%d")),
        bigquery.ScalarQueryParameter("end_suffix", "STRING", end.strftime("%Y%m%d")),
        bigquery.ArrayQueryParameter("event_names", "STRING", list(names)),
    ]


def row_as_export(row: Mapping[str, Any]) -> dict[str, Any]:
    """A BigQuery client row as the dict an NDJSON export line would parse to."""
    return {name: row.get(name) for name in COLUMNS}


def _pages(
    config: dict[str, Any], credentials: Any, start: date, end: date, names: tuple[str, ...]
) -> Iterator[list[dict[str, Any]]]:
    with needs_extra("bigquery", "BigQuery imports"):
        from google.cloud import bigquery

    client = bigquery_client(config, credentials)
    try:
        rows = client.query_and_wait(
            build_query(config["project_id"], config["dataset"]),
            job_config=bigquery.QueryJobConfig(
                query_parameters=query_parameters(start, end, names)
            ),
            page_size=PAGE_SIZE,
        )
        for page in rows.pages:
            yield [row_as_export(dict(row.items())) for row in page]
    finally:
        client.close()  # type: ignore[no-untyped-call]


async def _produce(
    queue: asyncio.Queue[list[dict[str, Any]] | None],
    config: dict[str, Any],
    credentials: Any,
    start: date,
    end: date,
    names: tuple[str, ...],
) -> None:
    pages = _pages(config, credentials, start, end, names)
    try:
        while (page := await asyncio.to_thread(next, pages, None)) is not None:
            await queue.put(page)
    finally:
        await queue.put(None)


def map_rows(rows: list[dict[str, Any]], counts: ImportCounts) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for row in rows:
        counts.rows += 1
        try:
            events.extend(map_ga4_row(row))  # type: ignore[arg-type]
        except GA4RowError as exc:
            counts.row_errors += 1
            counts.note_error(f"{row.get('event_name')} at {row.get('event_timestamp')}: {exc}")
    return events


def _has_table(config: dict[str, Any], credentials: Any, day: date) -> bool:
    with needs_extra("bigquery", "BigQuery imports"):
        from google.api_core import exceptions

    client = bigquery_client(config, credentials)
    try:
        client.get_table(f"{config['project_id']}.{config['dataset']}.events_{day:%Y%m%d}")
    except exceptions.NotFound:
        return False
    finally:
        client.close()  # type: ignore[no-untyped-call]
    return True


async def check_export_tables(
    config: dict[str, Any], credentials: Any, start: date, end: date
) -> None:
    """Fail with `BigQueryFailed` naming the first day in [start, end] without its table."""
    day = start
    while day <= end:
        with bigquery_errors(config):
            exists = await asyncio.to_thread(_has_table, config, credentials, day)
        if not exists:
            raise BigQueryFailed(f"The GA4 export has no table events_{day:%Y%m%d} yet")
        day += timedelta(days=1)


async def import_bigquery(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    config: dict[str, Any],
    *,
    start: date,
    end: date,
    counts: ImportCounts,
    require_tables: bool = False,
) -> ImportCounts:
    """Replace `bigquery` events in [start, end] with what the export holds now.

    Google's errors become `BigQueryFailed`, whose message quotes nothing Google said.
    With `require_tables`, a day whose export table is missing fails the import.
    """
    credentials = await bigquery_credentials(config)  # one token for the six queries
    if require_tables:
        await check_export_tables(config, credentials, start, end)
    counts.replaced += await replace_range(session, tenant_id, SOURCE, start, end)
    writer = RangeWriter(
        session,
        tenant_id,
        source=SOURCE,
        start=start,
        end=end,
        retention=await retention_days(session, tenant_id),
        counts=counts,
    )
    queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue(maxsize=QUEUE_PAGES)
    producers = [
        asyncio.create_task(_produce(queue, config, credentials, start, end, names))
        for names in EVENT_GROUPS.values()
    ]
    try:
        finished = 0
        while finished < len(producers):
            page = await queue.get()
            if page is None:
                finished += 1
                continue
            await writer.write(map_rows(page, counts))
        with bigquery_errors(config):
            await asyncio.gather(*producers)
    finally:
        for producer in producers:
            producer.cancel()
    return counts
