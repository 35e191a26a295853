"""Task lists surface planted cases and leave planted non-cases out; reps see their locations."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest

from mercato.kernel.db import get_database
from mercato.modules.masterdata.models import SalesRep, SalesRepLocation
from tests.factories import add_member
from tests.modules.analytics.events import utc_now
from tests.modules.tracking.helpers import new_shop, set_locale, stamp


def ev(kind: str, user: str, at, **extra) -> dict:
    return {
        "type": kind,
        "user_id": user,
        "timestamp": stamp(at),
        "event_id": uuid.uuid4().hex,
        **extra,
    }


def planted(now) -> list[dict]:
    d2, d5 = now - timedelta(days=2), now - timedelta(days=5)
    return [
        # abandoned high-value cart at B1, and a cheap one at B2
        ev("view_item", "ab1", d2, product_id="tv", session_id="ab1-s", location_code="B1"),
        ev(
            "add_to_cart",
            "ab1",
            d2 + timedelta(minutes=1),
            product_id="tv",
            quantity=1,
            price="899.00",
            currency="EUR",
            session_id="ab1-s",
            location_code="B1",
            properties={"email": "ab1@buyer.example"},
        ),
        ev(
            "add_to_cart",
            "ab2",
            d2,
            product_id="pen",
            quantity=2,
            price="1.50",
            currency="EUR",
            session_id="ab2-s",
            location_code="B2",
        ),
        # non-case: added then bought
        ev(
            "add_to_cart",
            "buyer1",
            d2,
            product_id="lamp",
            quantity=1,
            price="40.00",
            currency="EUR",
            session_id="b1-s",
            location_code="B1",
        ),
        ev(
            "purchase",
            "buyer1",
            d2 + timedelta(minutes=10),
            product_id="lamp",
            quantity=1,
            price="40.00",
            revenue="40.00",
            currency="EUR",
            session_id="b1-s",
            location_code="B1",
            properties={"order_id": "ORD-1", "email": "buyer1@x.example"},
        ),
        # non-case: cart too fresh to be abandoned
        ev(
            "add_to_cart",
            "fresh1",
            now - timedelta(hours=2),
            product_id="tv",
            quantity=1,
            price="899.00",
            currency="EUR",
            location_code="B1",
        ),
        # zero-result search; non-case search that found things and led to a view
        ev("search", "s1", d2, query="Unobtainium Widget", results_count=0, location_code="B2"),
        ev("search", "s2", d2, query="unobtainium widget ", results_count=0, location_code="B2"),
        ev("search", "s3", d2, query="lamp", results_count=25, location_code="B1"),
        ev("view_item", "s3", d2 + timedelta(minutes=1), product_id="lamp", location_code="B1"),
        # returning high-intent visitor without purchase
        *[
            ev(
                "view_item",
                "ret1",
                d5 + timedelta(minutes=i),
                product_id=f"sofa{i}",
                session_id="ret1-a",
                location_code="B1",
            )
            for i in range(3)
        ],
        ev("view_item", "ret1", d2, product_id="sofa1", session_id="ret1-b", location_code="B1"),
        ev(
            "add_to_cart",
            "ret1",
            d2 + timedelta(minutes=1),
            product_id="sofa1",
            quantity=1,
            price="700.00",
            currency="EUR",
            session_id="ret1-b",
            location_code="B1",
        ),
        # non-cases: one visit only; returning but bought
        *[
            ev(
                "view_item",
                "once1",
                d2 + timedelta(minutes=i),
                product_id=f"p{i}",
                session_id="once1-a",
                location_code="B1",
            )
            for i in range(6)
        ],
        *[
            ev(
                "view_item",
                "rb",
                d5 + timedelta(minutes=i),
                product_id=f"p{i}",
                session_id=f"rb-{i % 2}",
                location_code="B1",
            )
            for i in range(4)
        ],
        ev(
            "purchase",
            "rb",
            d2,
            product_id="p1",
            revenue="9.00",
            currency="EUR",
            session_id="rb-1",
            location_code="B1",
            properties={"order_id": "ORD-2"},
        ),
    ]


@pytest.fixture
async def shop(client):
    shop = await new_shop(client)
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": planted(utc_now())}, headers=shop.key_headers
    )
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == len(planted(utc_now()))
    return shop


async def _list(client, shop, name: str, headers=None, **params) -> list[dict]:
    response = await client.get(
        f"{shop.base}/tasks/{name}", params=params, headers=headers or shop.owner.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_cart_abandonment_surfaces_the_abandoned_high_value_cart_first(client, shop) -> None:
    items = await _list(client, shop, "cart-abandonment")
    users = [item["user_id"] for item in items]
    # value-ranked (ret1 also left a cart); bought and fresh carts are not tasks
    assert users == ["ab1", "ret1", "ab2"]
    top = items[0]
    assert top["amount"] == "899.00"
    assert top["products"] == ["tv"]
    assert top["location_code"] == "B1"
    assert top["contact"] == "ab1@buyer.example"
    assert top["status"] == "open"
    assert "899.00" in top["reason"]


async def test_search_gaps_surface_zero_result_searches_only(client, shop) -> None:
    items = await _list(client, shop, "search-gaps")
    assert [item["key"] for item in items] == ["unobtainium widget"]
    assert items[0]["details"]["zero_results"] == 2
    assert items[0]["location_code"] == "B2"


async def test_repeat_visitors_surface_returning_high_intent_visitors(client, shop) -> None:
    items = await _list(client, shop, "repeat-visitors")
    assert [item["user_id"] for item in items] == ["ret1"]
    assert items[0]["details"]["visits"] == 2
    assert items[0]["amount"] == "700.00"


async def test_purchase_followups_list_recent_orders_with_contact(client, shop) -> None:
    items = await _list(client, shop, "purchase-followups")
    assert {item["key"] for item in items} == {"ORD-1", "ORD-2"}
    order = next(item for item in items if item["key"] == "ORD-1")
    assert order["contact"] == "buyer1@x.example"
    assert order["amount"] == "40.00"
    assert order["products"] == ["lamp"]


async def test_status_updates_hide_done_and_snoozed_items(client, shop) -> None:
    url = f"{shop.base}/tasks/cart-abandonment/status"
    key = (await _list(client, shop, "cart-abandonment"))[0]["key"]
    done = await client.post(url, json={"key": key, "status": "done"}, headers=shop.owner.headers)
    assert done.status_code == 200, done.text
    assert [i["user_id"] for i in await _list(client, shop, "cart-abandonment")] == ["ret1", "ab2"]
    everything = await _list(client, shop, "cart-abandonment", status="all")
    assert {i["user_id"]: i["status"] for i in everything} == {
        "ab1": "done",
        "ret1": "open",
        "ab2": "open",
    }
    other = everything[2]["key"]
    no_date = await client.post(
        url, json={"key": other, "status": "snoozed"}, headers=shop.owner.headers
    )
    assert no_date.status_code == 422
    until = stamp(utc_now() + timedelta(days=1))
    snoozed = await client.post(
        url,
        json={"key": other, "status": "snoozed", "snoozed_until": until},
        headers=shop.owner.headers,
    )
    assert snoozed.status_code == 200
    assert [i["user_id"] for i in await _list(client, shop, "cart-abandonment")] == ["ret1"]
    assert len(await _list(client, shop, "cart-abandonment", status="snoozed")) == 1
    missing = await client.post(
        url, json={"key": "nobody:2020-01-01", "status": "done"}, headers=shop.owner.headers
    )
    assert missing.status_code == 404


async def test_reps_see_and_change_only_their_locations(client, shop) -> None:
    rep = await add_member(client, shop.owner, shop.tenant_id, "sales_rep")
    tenant = uuid.UUID(shop.tenant_id)
    async with get_database().tenant_session(tenant) as session:
        session.add(SalesRep(tenant_id=tenant, rep_id="R1", name="Rita", email=rep.email.upper()))
        session.add(SalesRep(tenant_id=tenant, rep_id="R2", name="Bo", email="bo@x.example"))
        session.add(SalesRepLocation(tenant_id=tenant, rep_id="R1", location_code="B1"))
        session.add(SalesRepLocation(tenant_id=tenant, rep_id="R2", location_code="B2"))
    mine = await _list(client, shop, "cart-abandonment", headers=rep.headers)
    assert [i["user_id"] for i in mine] == ["ab1", "ret1"]
    assert [r["rep_id"] for r in mine[0]["sales_reps"]] == ["R1"]
    assert await _list(client, shop, "search-gaps", headers=rep.headers) == []
    everything = await _list(client, shop, "cart-abandonment")
    b2_key = next(i["key"] for i in everything if i["location_code"] == "B2")
    denied = await client.post(
        f"{shop.base}/tasks/cart-abandonment/status",
        json={"key": b2_key, "status": "done"},
        headers=rep.headers,
    )
    assert denied.status_code == 404
    by_rep = await _list(client, shop, "cart-abandonment", rep="R2")
    assert [i["user_id"] for i in by_rep] == ["ab2"]
    by_location = await _list(client, shop, "cart-abandonment", location="B2")
    assert [i["user_id"] for i in by_location] == ["ab2"]


async def test_pagination_and_csv(client, shop) -> None:
    first = await client.get(
        f"{shop.base}/tasks/cart-abandonment", params={"limit": 1}, headers=shop.owner.headers
    )
    body = first.json()
    assert len(body["data"]) == 1
    assert body["next_cursor"]
    second = await client.get(
        f"{shop.base}/tasks/cart-abandonment",
        params={"limit": 1, "cursor": body["next_cursor"]},
        headers=shop.owner.headers,
    )
    assert [i["user_id"] for i in second.json()["data"]] == ["ret1"]
    assert second.json()["next_cursor"] is not None
    bad = await client.get(
        f"{shop.base}/tasks/cart-abandonment", params={"cursor": "!!"}, headers=shop.owner.headers
    )
    assert bad.status_code == 400
    unknown = await client.get(f"{shop.base}/tasks/nonsense", headers=shop.owner.headers)
    assert unknown.status_code == 422
    csv = await client.get(
        f"{shop.base}/tasks/cart-abandonment/export.csv", headers=shop.owner.headers
    )
    assert csv.status_code == 200
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("key,user_id,contact")
    assert len(lines) == 4


async def test_candidates_are_cached_for_a_minute_and_statuses_stay_live(client, shop) -> None:
    from mercato.kernel.redis import get_redis, tenant_key

    assert len(await _list(client, shop, "cart-abandonment")) == 3
    keys = [
        key
        async for key in get_redis().scan_iter(
            match=tenant_key(shop.tenant_id, "tasks", "cart-abandonment", "*")
        )
    ]
    assert len(keys) == 1
    assert 0 < await get_redis().ttl(keys[0]) <= 60
    await get_redis().set(keys[0], "[]", ex=60)  # what the cache says is what is served
    assert await _list(client, shop, "cart-abandonment") == []
    await get_redis().delete(keys[0])
    assert len(await _list(client, shop, "cart-abandonment")) == 3


async def test_csv_cells_from_shoppers_never_start_a_formula(client) -> None:
    shop = await new_shop(client)
    at = utc_now() - timedelta(days=1)
    response = await client.post(
        f"{shop.base}/events/batch",
        json={"events": [ev("search", "=cmd", at, query="=HYPERLINK(1)", results_count=0)]},
        headers=shop.key_headers,
    )
    assert response.status_code == 202, response.text
    csv = await client.get(f"{shop.base}/tasks/search-gaps/export.csv", headers=shop.owner.headers)
    row = csv.text.strip().splitlines()[1]
    assert row.startswith("'=hyperlink(1)")


async def test_the_csv_adds_each_amount_in_its_currency_as_the_tenants_locale_writes_it(
    client, shop
) -> None:
    await set_locale(client, shop, "de-DE", "USD")
    response = await client.get(
        f"{shop.base}/tasks/cart-abandonment/export.csv", headers=shop.owner.headers
    )
    rows = {row["user_id"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert rows["ab1"]["amount"] == "899.00"  # plain, for programs
    assert rows["ab1"]["currency"] == "EUR"  # the cart's own, not the tenant's USD
    assert rows["ab1"]["amount_formatted"] == "899,00\xa0€"
