"""Monthly partitions: created ahead and on demand, dropped only when no tenant needs them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg

from mercato.kernel.db import get_database
from mercato.modules.tracking import store_events
from mercato.modules.tracking.jobs import apply_retention
from mercato.modules.tracking.partitions import (
    TenantRetention,
    add_months,
    create_ahead,
    droppable_months,
    existing_partitions,
    known_months,
    month_of,
)
from tests.modules.tracking.helpers import new_shop, stamp, view


async def test_this_month_and_the_next_two_have_partitions(app) -> None:
    engine = get_database().engine
    await create_ahead(engine)
    months = await existing_partitions(engine)
    current = month_of(datetime.now(UTC))
    assert {current, add_months(current, 1), add_months(current, 2)} <= set(months)


async def test_an_import_creates_the_partition_it_needs(client, owner_dsn) -> None:
    shop = await new_shop(client)
    tenant = uuid.UUID(shop.tenant_id)
    old = datetime.now(UTC) - timedelta(days=560)
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("SELECT tracking_drop_event_partition(%s)", (month_of(old),))
    known_months.forget()
    async with get_database().tenant_session(tenant) as session:
        outcome = await store_events(
            session,
            tenant,
            [view(timestamp=stamp(old))],
            source="ga4_file",
            max_past=timedelta(days=700),
        )
    assert outcome.accepted == 1
    assert month_of(old) in await existing_partitions(get_database().engine)


def test_a_partition_is_droppable_only_when_every_tenant_is_past_it() -> None:
    now = datetime(2027, 6, 15, tzinfo=UTC)
    months = [
        date(2024, 12, 1),
        date(2025, 5, 1),
        date(2025, 6, 1),
        date(2026, 4, 1),
        date(2026, 5, 1),
    ]
    short, default = TenantRetention(uuid.uuid4(), 30), TenantRetention(uuid.uuid4(), 730)
    assert droppable_months(months, [short, default], now) == [date(2024, 12, 1), date(2025, 5, 1)]
    # With only short retentions, the 400-day API window still protects recent months.
    assert droppable_months(months, [short], now) == months[:4]
    assert droppable_months(months, [TenantRetention(uuid.uuid4(), 3650)], now) == []


async def test_retention_deletes_a_tenants_expired_rows_and_their_keys(client, owner_dsn) -> None:
    short, other = await new_shop(client), await new_shop(client)
    response = await client.patch(
        f"{short.base}",
        json={"settings": {"event_retention_days": 30}},
        headers=short.owner.headers,
    )
    assert response.status_code == 200, response.text
    old = stamp(datetime.now(UTC) - timedelta(days=45))
    for shop in (short, other):
        batch = {"events": [view(event_id="old", timestamp=old), view(event_id="new")]}
        await client.post(f"{shop.base}/events/batch", json=batch, headers=shop.key_headers)
    outcome = await apply_retention()
    assert outcome["deleted_rows"] >= 1
    with psycopg.connect(owner_dsn) as conn:
        kept = dict(
            conn.execute(
                "SELECT tenant_id::text, array_agg(event_id ORDER BY event_id) FROM event "
                "WHERE tenant_id = ANY(%s::uuid[]) GROUP BY 1",
                ([short.tenant_id, other.tenant_id],),
            ).fetchall()
        )
        keys = conn.execute(
            "SELECT count(*) FROM event_key WHERE tenant_id = %s", (short.tenant_id,)
        ).fetchone()
    assert kept == {short.tenant_id: ["new"], other.tenant_id: ["new", "old"]}
    assert keys == (1,)
    # The expired event may come back: its key went with it.
    again = await client.post(
        f"{short.base}/events", json=view(event_id="old"), headers=short.key_headers
    )
    assert again.json() == {"accepted": 1, "duplicates": 0}
