"""POST {T}/events and {T}/events/batch: validation, dedup, durability, counters."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from mercato.modules.tracking import daily_counters
from tests.factories import add_member, create_api_key
from tests.metrics import scraped
from tests.modules.tracking.helpers import new_shop, stamp, view


def _stored(owner_dsn: str, tenant_id: str) -> list[tuple]:
    with psycopg.connect(owner_dsn) as conn:
        return conn.execute(
            "SELECT type, user_id, product_id, event_id, source FROM event WHERE tenant_id = %s",
            (tenant_id,),
        ).fetchall()


async def test_a_single_event_is_accepted_and_in_postgresql(client, owner_dsn) -> None:
    shop = await new_shop(client)
    response = await client.post(
        f"{shop.base}/events", json=view(event_id="e-1"), headers=shop.key_headers
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert _stored(owner_dsn, shop.tenant_id) == [("view_item", "u1", "p1", "e-1", "api")]


async def test_the_same_event_id_is_stored_once_across_requests_and_batches(
    client, owner_dsn
) -> None:
    shop = await new_shop(client)
    first = await client.post(
        f"{shop.base}/events", json=view(event_id="dup"), headers=shop.key_headers
    )
    again = await client.post(
        f"{shop.base}/events", json=view(event_id="dup"), headers=shop.key_headers
    )
    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 1}
    batch = {"events": [view(event_id="dup"), view(event_id="new"), view(event_id="new")]}
    response = await client.post(f"{shop.base}/events/batch", json=batch, headers=shop.key_headers)
    assert response.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    # A different timestamp does not make it another event: the id decides.
    later = view(event_id="dup", timestamp=stamp(datetime.now(UTC) - timedelta(days=40)))
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": [later]}, headers=shop.key_headers
    )
    assert response.json()["duplicates"] == 1
    assert sorted(r[3] for r in _stored(owner_dsn, shop.tenant_id)) == ["dup", "new"]


async def test_events_without_an_id_dedupe_on_user_type_product_and_time(client, owner_dsn) -> None:
    shop = await new_shop(client)
    moment = stamp(datetime.now(UTC) - timedelta(minutes=5))
    events = [
        view(timestamp=moment),
        view(timestamp=moment),
        view(timestamp=moment, product_id="p2"),
    ]
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
    )
    assert response.json() == {"accepted": 2, "duplicates": 1, "rejected": []}
    again = await client.post(f"{shop.base}/events", json=events[0], headers=shop.key_headers)
    assert again.json() == {"accepted": 0, "duplicates": 1}


async def test_concurrent_batches_with_the_same_ids_store_each_event_once(
    client, owner_dsn
) -> None:
    shop = await new_shop(client)
    events = [view(user=f"u{i}", event_id=f"c-{i}") for i in range(200)]
    responses = await asyncio.gather(
        *(
            client.post(
                f"{shop.base}/events/batch",
                json={"events": events[::step]},
                headers=shop.key_headers,
            )
            for step in (1, -1, 1, -1)
        )
    )
    assert all(r.status_code == 202 for r in responses)
    assert sum(r.json()["accepted"] for r in responses) == 200
    assert len(_stored(owner_dsn, shop.tenant_id)) == 200


async def test_each_type_needs_its_fields_and_bad_events_are_reported_by_index(client) -> None:
    shop = await new_shop(client)
    now = datetime.now(UTC)
    events = [
        view(),
        {"type": "purchase", "user_id": "u1", "revenue": "10.00"},
        {"type": "search", "user_id": "u1"},
        {"type": "add_to_cart", "user_id": "u1"},
        {"type": "teleport", "user_id": "u1"},
        view(timestamp=stamp(now + timedelta(hours=73))),
        view(timestamp=stamp(now - timedelta(days=401))),
        {"type": "purchase", "user_id": "u1", "revenue": "10.00001", "currency": "EUR"},
        "not an object",
        {
            "type": "purchase",
            "user_id": "u2",
            "revenue": "59.90",
            "currency": "EUR",
            "product_id": "p9",
        },
        {"type": "search", "user_id": "u2", "query": "sofa", "results_count": 12},
    ]
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
    )
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 3
    fields = {item["index"]: {e["field"] for e in item["errors"]} for item in body["rejected"]}
    assert fields == {
        1: {"currency"},
        2: {"query"},
        3: {"product_id"},
        4: {"type"},
        5: {"timestamp"},
        6: {"timestamp"},
        7: {"revenue"},
        8: {"event"},
    }


async def test_text_postgresql_cannot_store_is_rejected_per_event(client, owner_dsn) -> None:
    """NUL characters and integers beyond the column's range are the fuzzer's finds."""
    shop = await new_shop(client)
    events = [
        view(user_id="u\x00nul"),
        view(properties={"note": "a\x00b"}),
        {"type": "search", "user_id": "u3", "query": "lamp", "results_count": 2**80},
        view(user_id="clean"),
    ]
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 1
    fields = {item["index"]: {e["field"] for e in item["errors"]} for item in body["rejected"]}
    assert fields == {0: {"user_id"}, 1: {"properties"}, 2: {"results_count"}}
    assert [row[1] for row in _stored(owner_dsn, shop.tenant_id)] == ["clean"]


async def test_a_single_invalid_event_is_a_422_problem(client) -> None:
    shop = await new_shop(client)
    response = await client.post(
        f"{shop.base}/events", json={"type": "purchase", "user_id": "u"}, headers=shop.key_headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"revenue", "currency"}
    assert (
        await client.post(f"{shop.base}/events", json={"user_id": "u"}, headers=shop.key_headers)
    ).status_code == 422


async def test_a_batch_holds_at_most_1000_events(client) -> None:
    shop = await new_shop(client)
    events = [view(user=f"u{i}") for i in range(1001)]
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
    )
    assert response.status_code == 422


async def test_publishable_keys_send_events_only_from_allowed_origins(client) -> None:
    shop = await new_shop(client)
    key = (
        await create_api_key(
            client,
            shop.owner,
            shop.tenant_id,
            kind="publishable",
            allowed_origins=["https://shop.example"],
        )
    )["key"]
    allowed = await client.post(
        f"{shop.base}/events",
        json=view(),
        headers={"X-API-Key": key, "Origin": "https://shop.example"},
    )
    assert allowed.status_code == 202
    elsewhere = await client.post(
        f"{shop.base}/events",
        json=view(),
        headers={"X-API-Key": key, "Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    listing = await client.get(
        f"{shop.base}/events", headers={"X-API-Key": key, "Origin": "https://shop.example"}
    )
    assert listing.status_code == 403


async def test_staff_need_events_write(client) -> None:
    shop = await new_shop(client)
    manager = await add_member(client, shop.owner, shop.tenant_id, "manager")
    viewer = await add_member(client, shop.owner, shop.tenant_id, "viewer")
    assert (
        await client.post(f"{shop.base}/events", json=view(), headers=manager.headers)
    ).status_code == 202
    assert (
        await client.post(f"{shop.base}/events", json=view(), headers=viewer.headers)
    ).status_code == 403


async def test_counters_count_stored_events_after_commit_and_never_duplicates(client) -> None:
    shop = await new_shop(client)
    events = [
        view(event_id="v1"),
        view(event_id="v1"),
        {"type": "add_to_cart", "user_id": "u1", "product_id": "p1", "event_id": "a1"},
        {
            "type": "purchase",
            "user_id": "u1",
            "product_id": "p1",
            "revenue": "19.99",
            "currency": "EUR",
            "properties": {"order_id": "o1"},
            "event_id": "b1",
        },
        {
            "type": "purchase",
            "user_id": "u1",
            "product_id": "p2",
            "revenue": "5.01",
            "currency": "EUR",
            "properties": {"order_id": "o1"},
            "event_id": "b2",
        },
        view(event_id="old", timestamp=stamp(datetime.now(UTC) - timedelta(days=3))),
    ]
    await client.post(
        f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
    )
    await client.post(f"{shop.base}/events", json=view(event_id="v1"), headers=shop.key_headers)
    today = await daily_counters(uuid.UUID(shop.tenant_id))
    assert (today.views, today.add_to_carts, today.purchases, today.orders) == (1, 1, 2, 1)
    assert str(today.revenue) == "25.0000"


async def test_events_are_counted_by_source_and_outcome(client) -> None:
    shop = await new_shop(client)
    name = "mercato_events_total"
    outcomes = ("accepted", "duplicate", "rejected")
    before = [await scraped(client, name, source="api", outcome=o) for o in outcomes]
    batch = {"events": [view(event_id="m-1"), view(event_id="m-1"), {"type": "view_item"}]}
    response = await client.post(f"{shop.base}/events/batch", json=batch, headers=shop.key_headers)
    assert response.status_code == 202, response.text
    after = [await scraped(client, name, source="api", outcome=o) for o in outcomes]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
