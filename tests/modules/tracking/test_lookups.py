"""GET {T}/events, {T}/users/{user_id}/timeline and {T}/ingest/availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.modules.tracking.helpers import new_shop, stamp, view


async def _send(client, shop, events) -> None:
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
    )
    assert response.status_code == 202, response.text
    assert not response.json()["rejected"], response.text


async def test_events_list_newest_first_with_filters_and_cursor(client) -> None:
    shop = await new_shop(client)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    await _send(
        client,
        shop,
        [
            view(user="ann", product=f"p{i}", timestamp=stamp(base + timedelta(minutes=i)))
            for i in range(5)
        ]
        + [{"type": "search", "user_id": "bob", "query": "lamp", "timestamp": stamp(base)}],
    )
    first = await client.get(
        f"{shop.base}/events", params={"user_id": "ann", "limit": 3}, headers=shop.key_headers
    )
    assert first.status_code == 200
    page = first.json()
    assert [e["product_id"] for e in page["data"]] == ["p4", "p3", "p2"]
    rest = await client.get(
        f"{shop.base}/events",
        params={"user_id": "ann", "limit": 3, "cursor": page["next_cursor"]},
        headers=shop.key_headers,
    )
    assert [e["product_id"] for e in rest.json()["data"]] == ["p1", "p0"]
    assert rest.json()["next_cursor"] is None
    searches = await client.get(
        f"{shop.base}/events", params={"type": "search"}, headers=shop.key_headers
    )
    assert [(e["user_id"], e["query"]) for e in searches.json()["data"]] == [("bob", "lamp")]
    window = await client.get(
        f"{shop.base}/events",
        params={
            "start": stamp(base + timedelta(minutes=1)),
            "end": stamp(base + timedelta(minutes=3)),
        },
        headers=shop.key_headers,
    )
    assert [e["product_id"] for e in window.json()["data"]] == ["p2", "p1"]
    bad = await client.get(
        f"{shop.base}/events", params={"cursor": "garbage!"}, headers=shop.key_headers
    )
    assert bad.status_code == 400


async def test_timeline_groups_a_shoppers_events_into_sessions(client) -> None:
    shop = await new_shop(client)
    day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    await _send(
        client,
        shop,
        [
            view(user="cara", product="p1", session_id="s1", timestamp=stamp(day)),
            {
                "type": "add_to_cart",
                "user_id": "cara",
                "product_id": "p1",
                "session_id": "s1",
                "location_code": "STO",
                "timestamp": stamp(day + timedelta(minutes=2)),
            },
            view(
                user="cara",
                product="p2",
                session_id="s2",
                timestamp=stamp(day + timedelta(hours=5)),
            ),
            view(user="cara", product="p3", timestamp=stamp(day + timedelta(hours=8))),
            view(user="cara", product="p4", timestamp=stamp(day + timedelta(hours=8, minutes=10))),
            view(user="cara", product="p5", timestamp=stamp(day + timedelta(hours=9))),
            view(user="dan", product="p9", session_id="s1", timestamp=stamp(day)),
        ],
    )
    response = await client.get(f"{shop.base}/users/cara/timeline", headers=shop.key_headers)
    assert response.status_code == 200
    sessions = response.json()["sessions"]
    assert [(s["session_id"], [e["product_id"] for e in s["events"]]) for s in sessions] == [
        (None, ["p5"]),
        (None, ["p3", "p4"]),
        ("s2", ["p2"]),
        ("s1", ["p1", "p1"]),
    ]
    assert sessions[-1]["location_code"] == "STO"
    assert [e["type"] for e in sessions[-1]["events"]] == ["view_item", "add_to_cart"]


async def test_availability_counts_each_day_by_type_and_source(client) -> None:
    shop = await new_shop(client)
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    await _send(
        client,
        shop,
        [
            view(product="a", timestamp=stamp(yesterday)),
            view(product="b", timestamp=stamp(yesterday + timedelta(hours=3))),
            {
                "type": "search",
                "user_id": "u",
                "query": "x",
                "timestamp": stamp(yesterday + timedelta(hours=1)),
            },
            view(product="c", timestamp=stamp(today - timedelta(hours=1))),
        ],
    )
    response = await client.get(
        f"{shop.base}/ingest/availability",
        params={"start": yesterday.date().isoformat(), "end": today.date().isoformat()},
        headers=shop.key_headers,
    )
    assert response.status_code == 200
    days = response.json()["days"]
    assert [d["day"] for d in days] == [yesterday.date().isoformat(), today.date().isoformat()]
    assert days[0]["events"] == 3
    assert days[0]["by_type"] == {"view_item": 2, "search": 1}
    assert days[0]["by_source"] == {"api": 3}
    assert days[0]["first_at"].startswith(yesterday.date().isoformat() + "T12:00:00")
    assert days[0]["last_at"].startswith(yesterday.date().isoformat() + "T15:00:00")
    too_long = await client.get(
        f"{shop.base}/ingest/availability",
        params={"start": "2020-01-01", "end": "2026-01-01"},
        headers=shop.key_headers,
    )
    assert too_long.status_code == 422


async def test_another_tenant_never_sees_the_events(client) -> None:
    shop, other = await new_shop(client), await new_shop(client)
    await _send(client, shop, [view(user="secret-shopper")])
    listing = await client.get(f"{other.base}/events", headers=other.key_headers)
    assert listing.json()["data"] == []
    foreign = await client.get(f"{shop.base}/events", headers=other.key_headers)
    assert foreign.status_code == 404


async def test_money_reads_back_as_sent(client) -> None:
    shop = await new_shop(client)
    await _send(
        client,
        shop,
        [
            {
                "type": "purchase",
                "user_id": "m",
                "revenue": "49.90",
                "currency": "EUR",
                "event_id": "a",
            },
            {
                "type": "purchase",
                "user_id": "m",
                "revenue": "0.125",
                "currency": "KWD",
                "event_id": "b",
            },
        ],
    )
    listing = await client.get(f"{shop.base}/events", headers=shop.key_headers)
    assert sorted(e["revenue"] for e in listing.json()["data"]) == ["0.125", "49.90"]


async def test_query_dates_are_iso_text_never_a_number_read_as_unix_time(client) -> None:
    shop = await new_shop(client)
    headers = shop.owner.headers
    for path in ("/events", "/users/u1/timeline", "/ingest/availability"):
        for bad in ("0", "1700000000", "yesterday"):
            response = await client.get(f"{shop.base}{path}?start={bad}", headers=headers)
            assert response.status_code == 422, (path, bad, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        good = await client.get(
            f"{shop.base}{path}?start=2026-01-01&end=2026-01-02", headers=headers
        )
        assert good.status_code == 200, (path, good.text)
    timed = await client.get(f"{shop.base}/events?start=2026-01-01T10:00:00Z", headers=headers)
    assert timed.status_code == 200


async def test_the_batch_body_documents_events_and_tolerates_other_items(client) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/tenants/{tenant_id}/events/batch"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    items = body["properties"]["events"]["items"]
    assert items["anyOf"][0] == {"$ref": "#/components/schemas/EventIn"}
    assert items["anyOf"][1] == {}
    assert "EventIn" in schema["components"]["schemas"]
