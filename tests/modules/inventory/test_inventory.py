"""Stock over HTTP: PUT on_hand, totals over locations, the ledger, low-stock events."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from mercato.kernel.db import get_database
from tests.factories import add_member
from tests.modules.orders.shop import cart_with, checkout, ledger_is_consistent, open_shop, stock_of


async def test_put_and_read_stock_across_locations(client) -> None:
    shop = await open_shop(client, products={"p": "1.00"}, stock={("p", "A"): 4, ("p", "B"): 6})
    put = await client.put(
        shop.url("/inventory/p/A"), json={"on_hand": 7}, headers=shop.owner.headers
    )
    assert put.status_code == 200
    assert put.json() == {"on_hand": 7, "reserved": 0, "available": 7, "low_stock_threshold": None}
    stock = await stock_of(client, shop, "p")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (13, 0, 13)
    assert [(loc["location_code"], loc["on_hand"]) for loc in stock["locations"]] == [
        ("A", 7),
        ("B", 6),
    ]
    movements = (await client.get(shop.url("/inventory-movements/p"), headers=shop.headers)).json()[
        "data"
    ]
    assert [(m["kind"], m["on_hand_delta"]) for m in movements] == [
        ("adjustment", 3),
        ("adjustment", 6),
        ("adjustment", 4),
    ]
    listed = (await client.get(shop.url("/inventory?location=B"), headers=shop.headers)).json()
    assert [(r["product_id"], r["location_code"]) for r in listed["data"]] == [("p", "B")]


async def test_receipts_and_the_ledger_recompute_on_hand(client) -> None:
    shop = await open_shop(client, products={"r": "1.00"}, stock={("r", "A"): 2})
    receipt = await client.post(
        shop.url("/inventory/r/A/movements"),
        json={"kind": "receipt", "quantity": 5, "note": "delivery 42"},
        headers=shop.owner.headers,
    )
    assert receipt.status_code == 200
    assert receipt.json()["on_hand"] == 7
    await checkout(client, shop, await cart_with(client, shop, {"r": 3}))
    assert await ledger_is_consistent(client, shop, "r")
    # The ledger is append-only for the application role.
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with get_database().tenant_session(uuid.UUID(shop.tenant)) as session:
            await session.execute(text("DELETE FROM stock_movement"))


async def test_on_hand_below_reserved_is_409(client) -> None:
    shop = await open_shop(client, products={"q": "1.00"}, stock={("q", "A"): 5})
    await checkout(client, shop, await cart_with(client, shop, {"q": 3}))
    below = await client.put(
        shop.url("/inventory/q/A"), json={"on_hand": 2}, headers=shop.owner.headers
    )
    assert below.status_code == 409
    assert below.json()["type"].endswith("/below-reserved")
    negative = await client.put(
        shop.url("/inventory/q/A"), json={"on_hand": -1}, headers=shop.owner.headers
    )
    assert negative.status_code == 422


async def test_unknown_products_and_locations_are_404(client) -> None:
    shop = await open_shop(client, products={"k": "1.00"}, stock={("k", "A"): 1})
    owner = shop.owner.headers
    assert (
        await client.put(shop.url("/inventory/ghost/A"), json={"on_hand": 1}, headers=owner)
    ).status_code == 404
    assert (
        await client.put(shop.url("/inventory/k/NOWHERE"), json={"on_hand": 1}, headers=owner)
    ).status_code == 404
    assert (await client.get(shop.url("/inventory/ghost"), headers=owner)).status_code == 404


async def test_crossing_the_threshold_emits_low_stock_once(client) -> None:
    shop = await open_shop(client, products={"l": "1.00"}, stock={("l", "A"): 5})
    await client.put(
        shop.url("/inventory/l/A"),
        json={"on_hand": 5, "low_stock_threshold": 2},
        headers=shop.owner.headers,
    )
    await checkout(client, shop, await cart_with(client, shop, {"l": 2}))  # 3 left: not yet
    await checkout(client, shop, await cart_with(client, shop, {"l": 1}))  # 2 left: crossed
    await checkout(client, shop, await cart_with(client, shop, {"l": 1}))  # 1 left: already low
    async with get_database().session() as session:
        events = (
            (
                await session.execute(
                    text(
                        "SELECT args->'payload' FROM procrastinate_jobs WHERE args->>'event' = "
                        "'inventory.low_stock' AND args->>'tenant_id' = :tenant"
                    ),
                    {"tenant": shop.tenant},
                )
            )
            .scalars()
            .all()
        )
    assert len(events) >= 1
    assert {(e["available"], e["threshold"]) for e in events} == {(2, 2)}
    low = (await client.get(shop.url("/inventory?low=true"), headers=shop.headers)).json()["data"]
    assert [r["product_id"] for r in low] == ["l"]


async def test_viewers_cannot_change_stock(client) -> None:
    shop = await open_shop(client, products={"v": "1.00"}, stock={("v", "A"): 1})
    viewer = await add_member(client, shop.owner, shop.tenant, "viewer")
    assert (await client.get(shop.url("/inventory/v"), headers=viewer.headers)).status_code == 200
    denied = await client.put(
        shop.url("/inventory/v/A"), json={"on_hand": 9}, headers=viewer.headers
    )
    assert denied.status_code == 403
