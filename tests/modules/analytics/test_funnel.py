"""The funnel's two definitions, pinned with hand-built sessions.

Closed (the default): a step counts the sessions that did it and every step before it,
each step's first time at or after the previous step's first time. Open: each step counts
the sessions that did it. Every answer is also compared with `Truth`, which reads the raw
events only.
"""

from __future__ import annotations

import importlib.util
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from mercato.kernel.db import get_database
from mercato.modules.analytics import rebuild_tenant_days, roll_up_tenant
from mercato.settings import get_settings
from tests.modules.analytics.events import Ev, Truth, history, send, utc_now
from tests.modules.tracking.helpers import Shop, new_shop

ZONE = "America/New_York"
STEPS = ["view_item", "add_to_cart", "begin_checkout", "purchase"]


async def _shop_in_zone(client) -> Shop:
    shop = await new_shop(client)
    response = await client.patch(
        f"/api/v1/tenants/{shop.tenant_id}",
        json={"settings": {"timezone": ZONE}},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text
    return shop


async def _funnel(client, shop: Shop, **params) -> dict:
    response = await client.get(
        f"{shop.base}/analytics/funnel", params=params, headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["step"] for s in body["steps"]] == STEPS
    return body


def _counts(body: dict) -> list[int]:
    return [s["sessions"] for s in body["steps"]]


def _buy(user: str, session: str, at: datetime, location: str, product: str, order: str) -> Ev:
    return Ev("purchase", user, session, at, location, product, 1, Decimal("10.00"), order)


def _sessions(midnight: datetime, watermark: datetime) -> list[Ev]:
    """Hand-built sessions around a local midnight; `watermark` splits some of them into a
    rolled-up part and a raw tail."""
    before, after = watermark - timedelta(minutes=30), watermark + timedelta(minutes=5)
    m = midnight
    return [
        # Every step in order: counts in all four steps of both funnels.
        Ev("view_item", "u1", "in-order", m - timedelta(hours=3), "B1", "p1"),
        Ev("add_to_cart", "u1", "in-order", m - timedelta(hours=3, minutes=-1), "B1", "p1", 1),
        Ev("begin_checkout", "u1", "in-order", m - timedelta(hours=2, minutes=50), "B1"),
        _buy("u1", "in-order", m - timedelta(hours=2, minutes=49), "B1", "p1", "o-1"),
        # Buys without beginning checkout: open has a purchase, closed stops at the cart.
        Ev("view_item", "u2", "no-checkout", m - timedelta(hours=2), "B1", "p2"),
        Ev("add_to_cart", "u2", "no-checkout", m - timedelta(hours=2, minutes=-1), "B1", "p2", 1),
        _buy("u2", "no-checkout", m - timedelta(hours=1), "B1", "p2", "o-2"),
        # Adds to the cart before viewing: closed counts only the view.
        Ev("add_to_cart", "u3", "cart-first", m - timedelta(hours=4), "", "p3", 1),
        Ev("view_item", "u3", "cart-first", m - timedelta(hours=3, minutes=59), "", "p3"),
        Ev("begin_checkout", "u3", "cart-first", m - timedelta(hours=3, minutes=58), ""),
        _buy("u3", "cart-first", m - timedelta(hours=3, minutes=57), "", "p3", "o-3"),
        # A repeated step counts from its first time; checkout and purchase in the same
        # second are in order ("at or after").
        Ev("view_item", "u4", "repeat", m - timedelta(hours=5), "B2", "p1"),
        Ev("add_to_cart", "u4", "repeat", m - timedelta(hours=4, minutes=59), "B2", "p1", 1),
        Ev("view_item", "u4", "repeat", m - timedelta(hours=4, minutes=58), "B2", "p4"),
        Ev("begin_checkout", "u4", "repeat", m - timedelta(hours=4, minutes=57), "B2"),
        _buy("u4", "repeat", m - timedelta(hours=4, minutes=57), "B2", "p1", "o-4"),
        # Across midnight and two locations: views on the first day in B1, the cart on the
        # next day in B2; closed over both days reaches the cart, over the second day alone
        # it reaches nothing.
        Ev("view_item", "u5", "overnight", m - timedelta(minutes=10), "B1", "p5"),
        Ev("add_to_cart", "u5", "overnight", m + timedelta(minutes=10), "B2", "p5", 1),
        # A purchase and a checkout on the first day, the view on the second: out of order.
        _buy("u6", "late-view", m - timedelta(minutes=20), "B2", "p6", "o-6"),
        Ev("begin_checkout", "u6", "late-view", m - timedelta(minutes=21), "B2"),
        Ev("view_item", "u6", "late-view", m + timedelta(minutes=20), "B2", "p6"),
        # Without a session id (the user's local day is the session), only a page view.
        Ev("page_view", "u7", None, m - timedelta(hours=6), ""),
        # Across the watermark: view and cart rolled up, checkout and purchase in the tail.
        Ev("view_item", "u8", "split", before, "B1", "p7"),
        Ev("add_to_cart", "u8", "split", before + timedelta(minutes=1), "B1", "p7", 1),
        Ev("begin_checkout", "u8", "split", after, "B1"),
        _buy("u8", "split", after + timedelta(minutes=1), "B1", "p7", "o-8"),
        # Across the watermark out of order: view and purchase rolled up, then checkout and
        # cart in the tail: closed reaches the cart (after the view), not the checkout.
        Ev("view_item", "u9", "split-late", before, "B2", "p8"),
        _buy("u9", "split-late", before + timedelta(minutes=2), "B2", "p8", "o-9"),
        Ev("begin_checkout", "u9", "split-late", after, "B2"),
        Ev("add_to_cart", "u9", "split-late", after + timedelta(minutes=1), "B2", "p8", 1),
    ]


@pytest.fixture
async def hand_built(client):
    """The hand-built sessions of `_sessions`, rolled up to a watermark the day after the
    midnight they surround (the split sessions straddle it)."""
    shop = await _shop_in_zone(client)
    tz = ZoneInfo(ZONE)
    now = utc_now()
    midnight = datetime.combine(now.astimezone(tz).date() - timedelta(days=3), time(), tz)
    watermark = midnight + timedelta(hours=12)
    events = _sessions(midnight, watermark)
    await send(client, shop, events)
    lag = timedelta(seconds=get_settings().analytics_rollup_lag_s)
    rolled = await roll_up_tenant(uuid.UUID(shop.tenant_id), now=watermark + lag)
    assert rolled == watermark
    return shop, events, midnight


class TestClosedFunnel:
    async def test_each_step_counts_only_sessions_that_did_the_previous_steps_in_order(
        self, client, hand_built
    ) -> None:
        shop, events, midnight = hand_built
        first, second = midnight.date() - timedelta(days=1), midnight.date()
        body = await _funnel(client, shop, start=first, end=second)
        assert body["mode"] == "closed"
        assert body["sessions"] == 9
        # view: all but u7; cart: in-order, no-checkout, repeat, overnight, split,
        # split-late; checkout: in-order, repeat, split; purchase: the same three.
        assert _counts(body) == [8, 6, 3, 3]
        assert _counts(body) == Truth(events, ZONE).closed_funnel(events)
        rates = [s["rate_from_previous"] for s in body["steps"]]
        assert all(0 <= rate <= 1 for rate in rates)

    async def test_order_is_judged_over_the_range_only(self, client, hand_built) -> None:
        shop, events, midnight = hand_built
        truth = Truth(events, ZONE)
        day = midnight.date()
        for start, end in ((day - timedelta(days=1), day - timedelta(days=1)), (day, day)):
            body = await _funnel(client, shop, start=start, end=end)
            selected = truth.select(start, end)
            assert _counts(body) == truth.closed_funnel(selected), (start, end)
        # The second day alone: overnight has only its cart, late-view only its view; the
        # split sessions are whole (split-late reaches the cart, its checkout came before).
        assert _counts(await _funnel(client, shop, start=day, end=day)) == [3, 2, 1, 1]

    async def test_a_location_counts_only_its_own_steps(self, client, hand_built) -> None:
        shop, events, midnight = hand_built
        truth = Truth(events, ZONE)
        start, end = midnight.date() - timedelta(days=1), midnight.date()
        for location in ("B1", "B2", ""):
            body = await _funnel(client, shop, start=start, end=end, location=location)
            selected = truth.select(start, end, location)
            assert _counts(body) == truth.closed_funnel(selected), location
            assert _counts(body) == sorted(_counts(body), reverse=True)

    async def test_answers_stay_the_same_once_the_tail_is_rolled_up(
        self, client, hand_built
    ) -> None:
        shop, _, midnight = hand_built
        start, end = midnight.date() - timedelta(days=1), midnight.date()
        before = await _funnel(client, shop, start=start, end=end)
        await roll_up_tenant(uuid.UUID(shop.tenant_id))
        after = await _funnel(client, shop, start=start, end=end)
        assert _counts(after) == _counts(before) == [8, 6, 3, 3]
        # A rebuild recomputes the first times from the events.
        await rebuild_tenant_days(uuid.UUID(shop.tenant_id), start, end)
        assert _counts(await _funnel(client, shop, start=start, end=end)) == [8, 6, 3, 3]


class TestOpenFunnel:
    async def test_each_step_counts_every_session_that_did_it(self, client, hand_built) -> None:
        shop, events, midnight = hand_built
        start, end = midnight.date() - timedelta(days=1), midnight.date()
        body = await _funnel(client, shop, start=start, end=end, mode="open")
        assert body["mode"] == "open"
        assert body["sessions"] == 9
        # Purchases outnumber checkouts: no-checkout bought without one.
        assert _counts(body) == [8, 7, 6, 7]
        assert _counts(body) == Truth(events, ZONE).funnel(events)

    async def test_a_mode_other_than_closed_or_open_is_422(self, client) -> None:
        shop = await new_shop(client)
        response = await client.get(
            f"{shop.base}/analytics/funnel", params={"mode": "strict"}, headers=shop.owner.headers
        )
        assert response.status_code == 422, response.text


async def test_both_funnels_match_the_raw_events_of_a_shop_history(client) -> None:
    """Several days and locations, part rolled up and part raw: closed never grows from one
    step to the next, open matches the per-step distinct sessions as before."""
    shop = await _shop_in_zone(client)
    now = utc_now()
    events = history(now, seed=11)
    # Some sessions out of order: their add-to-carts come a minute before their first view.
    shuffled = [
        Ev(
            e.type,
            e.user_id,
            e.session_id,
            e.at - timedelta(hours=1),
            e.location,
            e.product_id,
            e.quantity,
        )
        if e.type == "add_to_cart" and e.user_id.endswith(("1", "4"))
        else e
        for e in events
    ]
    await send(client, shop, shuffled)
    await roll_up_tenant(uuid.UUID(shop.tenant_id), now=now - timedelta(days=12))
    truth = Truth(shuffled, ZONE)
    end = now.astimezone(truth.tz).date()
    for start in (end - timedelta(days=44), end - timedelta(days=10), end):
        selected = truth.select(start, end)
        closed = _counts(await _funnel(client, shop, start=start, end=end))
        opened = _counts(await _funnel(client, shop, start=start, end=end, mode="open"))
        assert closed == truth.closed_funnel(selected), start
        assert opened == truth.funnel(selected), start
        assert closed == sorted(closed, reverse=True)
        assert all(c <= o for c, o in zip(closed, opened, strict=True))


async def test_the_migration_fills_the_step_times_the_rollups_would_have_kept(
    client, hand_built
) -> None:
    """Rows rolled up before the step times existed get them from the rolled-up events."""
    shop, _, _ = hand_built
    tenant = uuid.UUID(shop.tenant_id)
    path = Path(__file__).parents[3] / "migrations/versions/2026-12-21-1100_funnel_step_times.py"
    spec = importlib.util.spec_from_file_location("funnel_step_times", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    rows = text(
        "SELECT day, location_code, session_key, user_id, first_view_at, first_cart_at, "
        "first_checkout_at, first_purchase_at FROM analytics_session_day ORDER BY 1, 2, 3, 4"
    )
    async with get_database().tenant_session(tenant) as session:
        rolled = (await session.execute(rows)).all()
        await session.execute(
            text(
                "UPDATE analytics_session_day SET first_view_at = NULL, first_cart_at = NULL, "
                "first_checkout_at = NULL, first_purchase_at = NULL"
            )
        )
        await session.execute(text(migration.BACKFILL), {"tid": tenant})
        assert (await session.execute(rows)).all() == rolled
    # Every step of every rolled-up row: the hand-built sessions' events before the watermark.
    assert sum(time is not None for row in rolled for time in row[4:]) == 24
