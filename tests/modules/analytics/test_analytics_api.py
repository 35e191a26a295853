"""Every analytics number equals the ground truth computed from the raw events in Python."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from mercato.modules.analytics import rebuild_tenant_days, roll_up_tenant
from tests.factories import create_api_key
from tests.modules.analytics.events import Ev, Truth, history, send, utc_now
from tests.modules.tracking.helpers import new_shop, set_locale

ZONE = "America/New_York"
KPIS = (
    "sessions",
    "users",
    "product_views",
    "add_to_carts",
    "purchases",
    "begin_checkouts",
    "units",
)


def assert_kpis(answer: dict, truth: dict) -> None:
    for name in KPIS:
        assert answer[name] == truth[name], name
    assert Decimal(answer["revenue"]) == truth["revenue"]
    assert Decimal(answer["average_order_value"]) == truth["average_order_value"]
    assert answer["conversion_rate"] == pytest.approx(truth["conversion_rate"], abs=1e-12)


@pytest.fixture
async def shop_with_history(client):
    shop = await new_shop(client)
    response = await client.patch(
        f"/api/v1/tenants/{shop.tenant_id}",
        json={"settings": {"timezone": ZONE}},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text
    now = utc_now()
    events = history(now)
    await send(client, shop, events)
    # Roll up to ten days ago only: what follows must come from the raw tail.
    await roll_up_tenant(uuid.UUID(shop.tenant_id), now=now - timedelta(days=10))
    return shop, events, now


async def _get(client, shop, path: str, **params):
    response = await client.get(
        f"{shop.base}/analytics/{path}", params=params, headers=shop.owner.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_overview_matches_the_raw_events_with_the_previous_period(
    client, shop_with_history
) -> None:
    shop, events, now = shop_with_history
    truth = Truth(events, ZONE)
    end = now.astimezone(truth.tz).date()
    start = end - timedelta(days=19)
    body = await _get(client, shop, "overview", start=start, end=end, compare="previous")
    assert_kpis(body, truth.kpis(truth.select(start, end)))
    assert body["sessions"] > 10
    assert Decimal(body["revenue"]) > 0
    previous = truth.kpis(truth.select(start - timedelta(days=20), start - timedelta(days=1)))
    assert_kpis(body["previous"], previous)
    assert body["previous_range"] == {
        "start": str(start - timedelta(days=20)),
        "end": str(start - timedelta(days=1)),
    }
    by_location = await _get(client, shop, "overview", start=start, end=end, location="B1")
    assert_kpis(by_location, truth.kpis(truth.select(start, end, "B1")))


async def test_numbers_stay_exact_after_rolling_everything_up(client, shop_with_history) -> None:
    shop, events, now = shop_with_history
    truth = Truth(events, ZONE)
    tenant = uuid.UUID(shop.tenant_id)
    # Two runs at once: the advisory lock makes them add each event exactly once.
    await asyncio.gather(
        roll_up_tenant(tenant, now=now + timedelta(minutes=5)),
        roll_up_tenant(tenant, now=now + timedelta(minutes=5)),
    )
    end = now.astimezone(truth.tz).date()
    start = end - timedelta(days=44)
    body = await _get(client, shop, "overview", start=start, end=end)
    assert_kpis(body, truth.kpis(truth.select(start, end)))


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
@pytest.mark.parametrize("metric", ["sessions", "users", "revenue", "purchases", "conversion_rate"])
async def test_timeseries_matches_the_raw_events(
    client, shop_with_history, granularity, metric
) -> None:
    shop, events, now = shop_with_history
    truth = Truth(events, ZONE)
    end = now.astimezone(truth.tz).date()
    start = end - timedelta(days=40)
    body = await _get(
        client, shop, "timeseries", metric=metric, start=start, end=end, granularity=granularity
    )

    def bucket(day):
        if granularity == "week":
            return day - timedelta(days=day.weekday())
        if granularity == "month":
            return day.replace(day=1)
        return day

    groups = truth.by_bucket(truth.select(start, end), bucket)
    points = {p["t"]: p["value"] for p in body["points"]}
    assert len(points) == len(body["points"])
    assert set(str(b) for b in groups) <= set(points)
    for t, value in points.items():
        expected = truth.kpis(groups.get(date.fromisoformat(t), []))[metric]
        if metric == "revenue":
            assert Decimal(str(value)) == expected, t
        elif metric == "conversion_rate":
            assert value == pytest.approx(expected, abs=1e-12), t
        else:
            assert value == expected, t
    if granularity == "day":
        assert len(points) == 41


@pytest.mark.parametrize("by", ["revenue", "units", "views"])
async def test_top_products_match_the_raw_events(client, shop_with_history, by) -> None:
    shop, events, now = shop_with_history
    truth = Truth(events, ZONE)
    end = now.astimezone(truth.tz).date()
    start = end - timedelta(days=30)
    body = await _get(client, shop, "top-products", start=start, end=end, by=by, limit=5)
    products = truth.products(truth.select(start, end))
    expected = sorted(products, key=lambda p: (-products[p][by], p))[:5]
    assert [row["product_id"] for row in body["data"]] == expected
    for row in body["data"]:
        fact = products[row["product_id"]]
        assert row["views"] == fact["views"]
        assert row["units"] == fact["units"]
        assert Decimal(row["revenue"]) == fact["revenue"]


async def test_funnel_matches_the_raw_events(client, shop_with_history) -> None:
    shop, events, now = shop_with_history
    truth = Truth(events, ZONE)
    end = now.astimezone(truth.tz).date()
    start = end - timedelta(days=30)
    selected = truth.select(start, end)
    body = await _get(client, shop, "funnel", start=start, end=end, mode="open")
    assert [s["sessions"] for s in body["steps"]] == truth.funnel(selected)
    closed = await _get(client, shop, "funnel", start=start, end=end)
    assert [s["sessions"] for s in closed["steps"]] == truth.closed_funnel(selected)
    assert closed["sessions"] == body["sessions"]
    assert [s["step"] for s in body["steps"]] == [
        "view_item",
        "add_to_cart",
        "begin_checkout",
        "purchase",
    ]
    assert body["sessions"] == truth.kpis(selected)["sessions"]


async def test_all_locations_in_one_call_and_csv_export(client, shop_with_history) -> None:
    shop, events, now = shop_with_history
    truth = Truth(events, ZONE)
    end = now.astimezone(truth.tz).date()
    start = end - timedelta(days=30)
    body = await _get(client, shop, "locations", start=start, end=end)
    rows = {row["location_code"]: row for row in body["data"]}
    assert set(rows) == {"", "B1", "B2"}
    for code, row in rows.items():
        assert_kpis(row, truth.kpis(truth.select(start, end, code)))
    response = await client.get(
        f"{shop.base}/analytics/export.csv",
        params={"start": start, "end": end},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["day", "location_code", "sessions", "users"]
    total_views = sum(int(line.split(",")[header.index("product_views")]) for line in lines[1:])
    assert total_views == truth.kpis(truth.select(start, end))["product_views"]


async def test_late_events_are_added_when_their_days_are_rebuilt(client) -> None:
    shop = await new_shop(client)
    now = utc_now()
    tenant = uuid.UUID(shop.tenant_id)
    early = [Ev("view_item", "late", "s-late", now - timedelta(days=3), "B1", "p1")]
    await send(client, shop, early)
    await roll_up_tenant(tenant, now=now)
    late = [Ev("view_item", "late2", "s-late2", now - timedelta(days=3, minutes=5), "B1", "p2")]
    await send(client, shop, late)
    day = (now - timedelta(days=3)).date()
    before = await _get(client, shop, "overview", start=day, end=day)
    assert before["product_views"] == 1  # behind the watermark: not seen yet
    await rebuild_tenant_days(tenant, day - timedelta(days=1), day + timedelta(days=1))
    after = await _get(client, shop, "overview", start=day, end=day)
    assert after["product_views"] == 2
    assert after["users"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ({"start": "2023-01-01", "end": "2026-01-01"}, "start"),
        ({"start": "not-a-date"}, "start"),
    ],
)
async def test_bad_ranges_are_422(client, params, field) -> None:
    shop = await new_shop(client)
    for path in ("overview", "timeseries", "top-products", "funnel", "locations", "export.csv"):
        response = await client.get(
            f"{shop.base}/analytics/{path}", params=params, headers=shop.owner.headers
        )
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.text


async def test_placement_rollup_counts_each_placement_strategy_and_variant(client) -> None:
    shop = await new_shop(client)
    now = utc_now()
    at = now - timedelta(days=2)
    arms = [
        ("home", "trending", "control"),
        ("home", "collaborative", "variant"),
        ("pdp", "frequently_bought_together", ""),
    ]
    bodies = []
    expected = {}
    for i, (placement, strategy, variant) in enumerate(arms):
        impressions, clicks, buys = 5 + i, 2 + i, 1 + i
        base = {
            "placement": placement,
            "strategy": strategy,
            "user_id": f"u{i}",
            "timestamp": (at + timedelta(minutes=i)).isoformat(),
        }
        if variant:
            base["variant"] = variant
            base["experiment_id"] = "exp1"
        for n in range(impressions):
            bodies.append(
                {**base, "type": "impression", "product_id": f"p{n}", "event_id": f"imp-{i}-{n}"}
            )
        for n in range(clicks):
            bodies.append(
                {**base, "type": "click", "product_id": f"p{n}", "event_id": f"clk-{i}-{n}"}
            )
        for n in range(buys):
            bodies.append(
                {
                    **base,
                    "type": "purchase",
                    "product_id": f"p{n}",
                    "revenue": "10.50",
                    "currency": "EUR",
                    "event_id": f"buy-{i}-{n}",
                }
            )
        expected[(placement, strategy, variant)] = (
            impressions,
            clicks,
            buys,
            Decimal("10.50") * buys,
        )
    bodies.append(
        {
            "type": "impression",
            "user_id": "x",
            "product_id": "p1",
            "timestamp": at.isoformat(),
            "event_id": "no-placement",
        }
    )
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": bodies}, headers=shop.key_headers
    )
    assert response.status_code == 202, response.text
    await roll_up_tenant(uuid.UUID(shop.tenant_id), now=now)
    body = await _get(
        client, shop, "placements", start=at.date() - timedelta(days=1), end=now.date()
    )
    found = {
        (r["placement"], r["strategy"], r["variant"]): (
            r["impressions"],
            r["clicks"],
            r["conversions"],
            Decimal(r["revenue"]),
        )
        for r in body["data"]
    }
    assert found == expected


async def test_a_session_that_logs_in_counts_both_user_ids_once_as_a_session(client) -> None:
    shop = await new_shop(client)
    now = utc_now()
    at = now - timedelta(days=1)
    await send(
        client,
        shop,
        [
            Ev("view_item", "anon-7", "shared", at, "B1", "p1"),
            Ev("view_item", "cust-7", "shared", at + timedelta(minutes=1), "B1", "p2"),
        ],
    )
    await roll_up_tenant(uuid.UUID(shop.tenant_id), now=now)
    body = await _get(client, shop, "overview", start=at.date(), end=now.date())
    assert (body["sessions"], body["users"], body["product_views"]) == (1, 2, 2)


async def test_dates_at_the_edges_of_the_calendar_are_422_not_500(client) -> None:
    shop = await new_shop(client)
    for params in ({"start": "0001-01-01", "end": "0001-01-02"}, {"end": "9999-12-31"}):
        response = await client.get(
            f"{shop.base}/analytics/overview", params=params, headers=shop.owner.headers
        )
        assert response.status_code == 422, response.text


async def test_the_rollup_job_warms_the_dashboard_answers_in_redis(client) -> None:
    from mercato.kernel.redis import get_redis, tenant_key
    from mercato.modules.analytics.jobs import warm_dashboard

    shop = await new_shop(client)
    now = utc_now()
    await send(client, shop, [Ev("view_item", "w1", "w-s", now - timedelta(days=1), "B1", "p1")])
    tenant = uuid.UUID(shop.tenant_id)
    await roll_up_tenant(tenant, now=now)
    pattern = tenant_key(tenant, "analytics", "*")
    assert [key async for key in get_redis().scan_iter(match=pattern)] == []
    await warm_dashboard(tenant)
    kinds = {key.decode().split(":")[3] async for key in get_redis().scan_iter(match=pattern)}
    assert kinds == {"overview", "timeseries", "funnel"}
    body = await _get(client, shop, "overview", compare="previous")
    assert body["product_views"] == 1


async def test_an_import_announcement_rebuilds_the_replaced_days(client) -> None:
    from mercato.kernel.events import subscribers
    from mercato.modules.analytics.jobs import rebuild_after_import

    assert any(
        name.endswith("rebuild_after_import") for name in subscribers("tracking.events_replaced")
    )
    shop = await new_shop(client)
    now = utc_now()
    tenant = uuid.UUID(shop.tenant_id)
    await roll_up_tenant(tenant, now=now)
    day = (now - timedelta(days=5)).date()
    await send(client, shop, [Ev("view_item", "imp", "imp-s", now - timedelta(days=5), "", "p")])
    assert (await _get(client, shop, "overview", start=day, end=day))["product_views"] == 0
    await rebuild_after_import(tenant, {"start": str(day), "end": str(day)})
    assert (await _get(client, shop, "overview", start=day, end=day))["product_views"] == 1


async def test_the_rollup_version_moves_only_when_figures_change(client) -> None:
    from mercato.modules.analytics.jobs import _roll_up

    shop = await new_shop(client)
    tenant = uuid.UUID(shop.tenant_id)
    now = utc_now()
    await send(client, shop, [Ev("view_item", "v1", "v-s", now - timedelta(hours=3), "", "p1")])
    _, first = await _roll_up(tenant, now - timedelta(hours=1))
    _, idle = await _roll_up(tenant, now)
    assert idle == first  # nothing new: cached answers stay valid
    await send(client, shop, [Ev("view_item", "v2", "v-s2", now + timedelta(minutes=1), "", "p")])
    _, moved = await _roll_up(tenant, now + timedelta(minutes=5))
    assert moved == first + 1


async def test_a_location_code_from_a_browser_key_cannot_run_in_a_spreadsheet(client) -> None:
    """Publishable keys write `location_code` freely; the export must not carry a formula."""
    shop = await new_shop(client)
    origin = "https://shop.example"
    browser = await create_api_key(
        client, shop.owner, shop.tenant_id, kind="publishable", allowed_origins=[origin]
    )
    hostile = '=HYPERLINK("https://evil.example","open")'
    sent = await client.post(
        f"{shop.base}/events",
        json={"type": "page_view", "user_id": "u1", "location_code": hostile},
        headers={"X-API-Key": browser["key"], "Origin": origin},
    )
    assert sent.status_code == 202, sent.text
    today = utc_now().date()
    response = await client.get(
        f"{shop.base}/analytics/export.csv",
        params={"start": today - timedelta(days=1), "end": today + timedelta(days=1)},
        headers=shop.owner.headers,
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["location_code"] for row in rows] == ["'" + hostile]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


@pytest.mark.parametrize(
    ("locale", "currency", "formatted"),
    [
        ("en-US", "USD", "$1,234.50"),
        ("de-DE", "EUR", "1.234,50\xa0€"),
        ("ja-JP", "JPY", "￥1,234"),
    ],
)
async def test_the_csv_export_adds_the_amounts_in_the_tenants_currency_and_locale(
    client, locale, currency, formatted
) -> None:
    shop = await new_shop(client)
    await set_locale(client, shop, locale, currency)
    now = utc_now()
    at = now - timedelta(days=1)
    purchase = Ev("purchase", "u1", "s1", at, "B1", "p1", 1, Decimal("1234.50"), "O1")
    await send(client, shop, [Ev("view_item", "u1", "s1", at, "B1", "p1"), purchase])
    await roll_up_tenant(uuid.UUID(shop.tenant_id), now=now)
    response = await client.get(
        f"{shop.base}/analytics/export.csv",
        params={"start": at.date() - timedelta(days=1), "end": now.date()},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text
    [row] = [r for r in csv.DictReader(io.StringIO(response.text)) if r["purchases"] != "0"]
    assert Decimal(row["revenue"]) == Decimal("1234.50")  # the numeric column stays plain
    assert Decimal(row["average_order_value"]) == Decimal("1234.50")
    assert row["currency"] == currency
    assert row["revenue_formatted"] == formatted
    assert row["average_order_value_formatted"] == formatted
