"""Several batches in one transaction (an import) each store exactly their own rows; a
one-round-trip commit of a few rows per tenant stores each under its own scope."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from mercato.kernel.db import get_database
from mercato.modules.tracking import store_events
from mercato.modules.tracking.event_writer import COPY_THRESHOLD, commit_few
from mercato.modules.tracking.ingest import check_batch
from mercato.modules.tracking.validation import ClockWindow, EventRow
from tests.modules.tracking.helpers import new_shop, stamp, view
from tests.modules.tracking.test_group_commit import refused_by_postgresql


async def test_batches_in_one_transaction_do_not_see_each_other(client, owner_dsn) -> None:
    shop = await new_shop(client)
    tenant = uuid.UUID(shop.tenant_id)
    moment = datetime.now(UTC) - timedelta(hours=1)
    size = COPY_THRESHOLD * 3
    async with get_database().tenant_session(tenant) as session:
        outcomes = [
            await store_events(
                session,
                tenant,
                [view(event_id=f"b{b}-{i}", timestamp=stamp(moment)) for i in range(size)],
            )
            for b in range(3)
        ]
        again = await store_events(session, tenant, [view(event_id="b0-0")])
    assert [(o.accepted, o.duplicates) for o in outcomes] == [(size, 0)] * 3
    assert (again.accepted, again.duplicates) == (0, 1)


def _rows(events: list[dict[str, str]]) -> list[EventRow]:
    rows, rejected = check_batch(events, ClockWindow.around(datetime.now(UTC)))
    assert not rejected
    return rows


async def test_a_one_round_trip_commit_stores_each_tenant_under_its_own_scope(
    client, owner_dsn
) -> None:
    first, second = [uuid.UUID((await new_shop(client)).tenant_id) for _ in range(2)]
    stored = await commit_few(
        {
            first: _rows([view(event_id="a"), view(event_id="b"), view(event_id="a")]),
            second: _rows([view(event_id="a")]),
        },
        source="api",
    )
    assert {t: sorted(r.event_id or "" for r in rows) for t, rows in stored.items()} == {
        first: ["a", "b"],
        second: ["a"],
    }
    again = await commit_few({first: _rows([view(event_id="b"), view(event_id="c")])}, source="api")
    assert [row.event_id for row in again[first]] == ["c"]
    with psycopg.connect(owner_dsn) as conn:
        counts = dict(
            conn.execute(
                "SELECT tenant_id, count(*) FROM event WHERE tenant_id = ANY(%s) GROUP BY 1",
                ([first, second],),
            ).fetchall()
        )
    assert counts == {first: 3, second: 1}
    # The connection went back to the pool as sessions expect one: out of autocommit mode,
    # in no transaction, with no tenant scope left over (every idle one is looked at).
    engine = get_database().engine
    async with AsyncExitStack() as stack:
        for _ in range(engine.pool.checkedin()):  # type: ignore[attr-defined]
            connection = await stack.enter_async_context(engine.connect())
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            assert driver.autocommit is False
            assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            scope = await connection.exec_driver_sql(
                "SELECT current_setting('app.tenant_id', true)"
            )
            assert scope.scalar() in (None, "")


async def test_a_refused_one_round_trip_commit_stores_nothing(client, owner_dsn) -> None:
    refused, healthy = [uuid.UUID((await new_shop(client)).tenant_id) for _ in range(2)]
    with (
        refused_by_postgresql(owner_dsn, str(refused)),
        pytest.raises(psycopg.errors.RaiseException),
    ):
        await commit_few(
            {refused: _rows([view(event_id="r")]), healthy: _rows([view(event_id="h")])},
            source="api",
        )
    with psycopg.connect(owner_dsn) as conn:
        left = conn.execute(
            "SELECT count(*) FROM event WHERE tenant_id = ANY(%s)", ([refused, healthy],)
        ).fetchone()
    assert left == (0,)  # the healthy tenant's row went with the failed transaction
    stored = await commit_few({healthy: _rows([view(event_id="h")])}, source="api")
    assert [row.event_id for row in stored[healthy]] == ["h"]
