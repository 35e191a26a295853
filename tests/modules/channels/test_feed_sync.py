"""Live Merchant Center sync, item statuses and local inventory, end to end: changes made
over HTTP reach the fake Merchant API through the debounced `channels.sync_feed` job, which
parses every body with Google's own client types."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import psycopg
import pytest

from mercato.kernel.db import get_database
from mercato.modules.channels.business_profile.importer import import_business_profile
from mercato.modules.channels.feeds.jobs import read_tenant_statuses
from mercato.modules.reports.content import render_report
from mercato.settings import get_settings
from tests.fakes.google import FakeGoogle
from tests.jobs import run_queued_jobs
from tests.modules.channels.shop import CLEAN, Shop, build_shop, product, put_product
from tests.modules.channels.test_feed_push import push
from tests.modules.channels.test_gbp import TODAY, plant_business
from tests.modules.channels.test_google_oauth import linked_tenant
from tests.web.browser import signed_in

DEBOUNCE_S = 1.0
DISAPPROVED = {
    "destinationStatuses": [
        {"reportingContext": "SHOPPING_ADS", "disapprovedCountries": ["SE"]},
        {"reportingContext": "FREE_LISTINGS", "approvedCountries": ["SE"]},
    ],
    "itemLevelIssues": [
        {
            "code": "image_link_broken",
            "severity": "DISAPPROVED",
            "resolution": "merchant_action",
            "attribute": "image_link",
            "reportingContext": "SHOPPING_ADS",
            "description": "Invalid image [image link]",
            "applicableCountries": ["SE"],
        },
        {
            "code": "some_new_google_code",
            "severity": "DEMOTED",
            "resolution": "merchant_action",
            "reportingContext": "FREE_LISTINGS",
            "description": "Something Google newly checks",
            "applicableCountries": ["SE", "NO"],
        },
    ],
}


@pytest.fixture
async def shop(client, google: FakeGoogle, monkeypatch, taxonomy_in_database) -> Shop:
    """A linked shop whose products the account already holds (one full push)."""
    monkeypatch.setenv("MERCATO_FEED_SYNC_DEBOUNCE_S", str(DEBOUNCE_S))
    get_settings.cache_clear()
    tenant, owner = await linked_tenant(client, google)
    shop = await build_shop(client, tenant, owner)
    linked = await client.put(
        shop.url(f"/google/merchant-links/{google.account}"),
        json={"data_source_id": google.data_source, "content_language": "sv", "feed_label": "SE"},
        headers=owner.headers,
    )
    assert linked.status_code == 201, linked.text
    await push(client, shop)
    await run_queued_jobs("channels", "default")
    assert set(CLEAN) <= set(google.accepted)
    return shop


def sync_jobs(owner_dsn: str, tenant: str) -> list[tuple[str, datetime | None]]:
    """The tenant's `channels.sync_feed` jobs: status and when each may run."""
    with psycopg.connect(owner_dsn) as conn:
        rows = conn.execute(
            "SELECT status::text, scheduled_at FROM procrastinate_jobs "
            "WHERE task_name = 'channels.sync_feed' AND args->>'tenant_id' = %s ORDER BY id",
            (tenant,),
        ).fetchall()
    return [(str(status), scheduled) for status, scheduled in rows]


async def deliver_events() -> None:
    """The event handlers: they mark products pending and schedule the sync."""
    await run_queued_jobs("default")


async def run_sync_when_due(owner_dsn: str, tenant: str) -> None:
    due = max(at for status, at in sync_jobs(owner_dsn, tenant) if status == "todo" and at)
    await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.05)
    await run_queued_jobs("channels")


async def set_stock(client, shop: Shop, product_id: str, location: str, on_hand: int) -> None:
    response = await client.put(
        shop.url(f"/inventory/{product_id}/{location}"),
        json={"on_hand": on_hand},
        headers=shop.owner.headers,
    )
    assert response.status_code == 200, response.text


class TestLiveSync:
    async def test_an_edit_reaches_google_within_the_debounce_window_in_one_batch(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        calls_before = dict(google.calls)
        edited_at = datetime.now(UTC)
        await put_product(client, shop, "clean-1", product("clean-1", 0, price="749.00"))
        await put_product(client, shop, "clean-2", product("clean-2", 1, price="649.00"))
        await deliver_events()

        jobs = sync_jobs(owner_dsn, shop.tenant)
        assert len(jobs) == 1, jobs  # both edits wait for the same job
        status, due = jobs[0]
        assert status == "todo"
        assert due is not None
        assert timedelta(0) < due - edited_at <= timedelta(seconds=DEBOUNCE_S + 2)
        await run_queued_jobs("channels")
        assert google.calls == calls_before  # not before the debounce window closes

        await run_sync_when_due(owner_dsn, shop.tenant)
        assert google.accepted["clean-1"]["productAttributes"]["price"]["amountMicros"] == (
            "749000000"
        )
        assert google.accepted["clean-2"]["productAttributes"]["price"]["amountMicros"] == (
            "649000000"
        )
        arrived = datetime.now(UTC)
        assert arrived - edited_at < timedelta(seconds=DEBOUNCE_S + 10)
        # Only the edited products were sent.
        changed = {offer for offer, count in google.calls.items() if calls_before[offer] != count}
        assert changed == {"clean-1", "clean-2"}

    async def test_an_unchanged_product_is_not_sent_again(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        calls_before = dict(google.calls)
        warehouse = await client.put(
            shop.url("/locations/WH-1"), json={"name": "Warehouse"}, headers=shop.owner.headers
        )
        assert warehouse.status_code == 201, warehouse.text
        await set_stock(client, shop, "clean-1", "WH-1", 3)  # still in stock: the same input
        await deliver_events()
        await run_sync_when_due(owner_dsn, shop.tenant)
        assert [status for status, _ in sync_jobs(owner_dsn, shop.tenant)] == ["succeeded"]
        assert google.calls == calls_before

        await set_stock(client, shop, "clean-1", "WH-1", 0)  # now out of stock: sent
        await deliver_events()
        await run_sync_when_due(owner_dsn, shop.tenant)
        assert google.calls["clean-1"] == calls_before["clean-1"] + 1
        assert google.accepted["clean-1"]["productAttributes"]["availability"] == "OUT_OF_STOCK"

    async def test_a_deleted_or_out_of_scope_product_is_deleted_at_google(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        response = await client.delete(shop.url("/products/clean-3"), headers=shop.owner.headers)
        assert response.status_code == 204, response.text
        # A title over 150 characters blocks the item: it leaves the feed's scope.
        await put_product(client, shop, "clean-2", product("clean-2", 1, name="x" * 151))
        await deliver_events()
        await run_sync_when_due(owner_dsn, shop.tenant)
        assert sorted(google.deleted) == ["clean-2", "clean-3"]
        assert not {"clean-2", "clean-3"} & set(google.accepted)
        items = await client.get(shop.url("/feed/items?limit=500"), headers=shop.owner.headers)
        assert not {"clean-2", "clean-3"} & {row["product_id"] for row in items.json()["data"]}

    async def test_the_daily_reconciliation_removes_what_mercato_no_longer_has(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        # Deleted while no live sync ran: its event is never delivered here.
        response = await client.delete(shop.url("/products/clean-1"), headers=shop.owner.headers)
        assert response.status_code == 204, response.text
        await push(client, shop)
        await run_queued_jobs("channels")
        assert google.deleted == ["clean-1"]

    async def test_a_quota_answer_reschedules_the_sync_after_retry_after(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        await put_product(client, shop, "clean-1", product("clean-1", 0, price="700.00"))
        await deliver_events()
        google.quota_exhausted_calls = 1
        google.retry_after = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
        await run_sync_when_due(owner_dsn, shop.tenant)
        waiting = [at for status, at in sync_jobs(owner_dsn, shop.tenant) if status == "todo"]
        assert len(waiting) == 1
        assert waiting[0] is not None
        assert timedelta(seconds=100) < waiting[0] - datetime.now(UTC) <= timedelta(seconds=121)
        assert google.accepted["clean-1"]["productAttributes"]["price"]["amountMicros"] != (
            "700000000"
        )
        with psycopg.connect(owner_dsn) as conn:
            pending = conn.execute(
                "SELECT product_id FROM feed_sync_pending WHERE tenant_id = %s", (shop.tenant,)
            ).fetchall()
        assert pending == [("clean-1",)]  # kept for the rescheduled job

    async def test_a_tenant_without_merchant_center_defers_no_sync_work(
        self, client, google: FakeGoogle, owner_dsn: str
    ) -> None:
        tenant, owner = await linked_tenant(client, google)
        await build_shop(client, tenant, owner, align=False)
        with psycopg.connect(owner_dsn) as conn:
            handled = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'events.deliver' "
                "AND args->>'tenant_id' = %s AND args->>'handler' LIKE %s",
                (tenant, "%live_sync%"),
            ).fetchone()
        assert handled == (0,)


class TestItemStatuses:
    async def test_disapprovals_are_read_back_and_listed_by_status(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        google.product_status["clean-1"] = DISAPPROVED
        google.product_status["clean-2"] = {
            "destinationStatuses": [
                {"reportingContext": "SHOPPING_ADS", "pendingCountries": ["SE"]}
            ]
        }
        listed = await read_tenant_statuses(uuid.UUID(shop.tenant))
        assert listed == len(google.accepted)

        response = await client.get(
            shop.url("/feed/items?status=disapproved"), headers=shop.owner.headers
        )
        assert response.status_code == 200, response.text
        [item] = response.json()["data"]
        assert (item["product_id"], item["status"]) == ("clean-1", "disapproved")
        assert item["checked_at"] is not None
        broken, new = item["issues"]
        assert broken["code"] == "image_link_broken"
        assert (broken["severity"], broken["attribute"]) == ("disapproved", "image_link")
        assert broken["countries"] == ["SE"]
        assert broken["resolution"] == "merchant_action"
        assert "image" in broken["fix"]
        assert (new["fix"], new["description"]) == (None, "Something Google newly checks")
        assert new["countries"] == ["SE", "NO"]

        pending = await client.get(
            shop.url("/feed/items?status=pending"), headers=shop.owner.headers
        )
        assert [row["product_id"] for row in pending.json()["data"]] == ["clean-2"]
        approved = await client.get(
            shop.url("/feed/items?status=approved&limit=1"), headers=shop.owner.headers
        )
        page = approved.json()
        assert len(page["data"]) == 1
        assert page["next_cursor"]
        rest = await client.get(
            shop.url(f"/feed/items?status=approved&limit=500&cursor={page['next_cursor']}"),
            headers=shop.owner.headers,
        )
        names = [page["data"][0]["product_id"], *[r["product_id"] for r in rest.json()["data"]]]
        assert names == sorted(set(google.accepted) - {"clean-1", "clean-2"})

        bad = await client.get(shop.url("/feed/items?status=lost"), headers=shop.owner.headers)
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")

    async def test_the_daily_report_counts_items_by_status(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        google.product_status["clean-1"] = DISAPPROVED
        await read_tenant_statuses(uuid.UUID(shop.tenant))
        today = datetime.now(UTC).date()
        async with get_database().tenant_session(uuid.UUID(shop.tenant)) as session:
            report = await render_report(
                session,
                uuid.UUID(shop.tenant),
                location_code="",
                branch_name=None,
                start=today - timedelta(days=1),
                end=today,
            )
        approved = len(google.accepted) - 1
        assert report.figures["merchant_items"] == {
            "approved": approved,
            "pending": 0,
            "disapproved": 1,
        }
        assert "Products disapproved: 1" in report.text
        assert f"Products approved: {approved}" in report.text

    async def test_another_tenant_sees_none_of_the_items(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        await read_tenant_statuses(uuid.UUID(shop.tenant))
        other, stranger = await linked_tenant(client, google)
        theirs = await client.get(
            f"/api/v1/tenants/{shop.tenant}/feed/items", headers=stranger.headers
        )
        assert theirs.status_code == 404
        own = await client.get(f"/api/v1/tenants/{other}/feed/items", headers=stranger.headers)
        assert own.json()["data"] == []

    async def test_the_dashboard_shows_disapprovals_with_the_fix(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        google.product_status["clean-1"] = DISAPPROVED
        await read_tenant_statuses(uuid.UUID(shop.tenant))
        dashboard = await signed_in(client, shop.owner)
        summary = await dashboard.get(f"/app/t/{shop.tenant}/channels")
        assert 'data-kpi="disapproved">1<' in summary.text
        page = await dashboard.get(f"/app/t/{shop.tenant}/channels/items?status=disapproved")
        assert page.status_code == 200, page.text
        assert "clean-1" in page.text
        assert "image_link_broken" in page.text
        assert "URL is public" in page.text  # the fix for that code
        assert "Something Google newly checks" in page.text  # Google's words for unknown codes


class TestLocalInventory:
    async def stores(self, client, google: FakeGoogle, shop: Shop) -> None:
        """STO-1 is ours and linked to its GBP store code; UPP-1 is ours but not linked."""
        for code in ("STO-1", "UPP-1"):
            response = await client.put(
                shop.url(f"/locations/{code}"), json={"name": code}, headers=shop.owner.headers
            )
            assert response.status_code in (200, 201), response.text
        plant_business(google)
        google.business_locations["111"][1]["storeCode"] = "UPP-GBP"  # not one of our codes
        await import_business_profile(uuid.UUID(shop.tenant), today=TODAY)

    async def test_stock_changes_per_store_reach_local_inventories(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        await self.stores(client, google, shop)
        await set_stock(client, shop, "clean-1", "STO-1", 5)
        await set_stock(client, shop, "clean-1", "UPP-1", 2)
        await deliver_events()
        await run_sync_when_due(owner_dsn, shop.tenant)
        assert set(google.local_inventories) == {("clean-1", "STO-1")}
        sent = google.local_inventories[("clean-1", "STO-1")]["localInventoryAttributes"]
        assert (sent["availability"], sent["quantity"]) == ("IN_STOCK", "5")
        assert sent["price"] == {"amountMicros": "899000000", "currencyCode": "EUR"}

        await set_stock(client, shop, "clean-1", "STO-1", 0)
        await deliver_events()
        await run_sync_when_due(owner_dsn, shop.tenant)
        sent = google.local_inventories[("clean-1", "STO-1")]["localInventoryAttributes"]
        assert (sent["availability"], sent["quantity"]) == ("OUT_OF_STOCK", "0")

        precheck = await client.post(
            shop.url("/feed/precheck"),
            json={"product_ids": ["clean-1"]},
            headers=shop.owner.headers,
        )
        warnings = [i for i in precheck.json()["issues"] if i["attribute"] == "store_code"]
        assert len(warnings) == 1
        assert "UPP-1" in warnings[0]["message"]

    async def test_a_store_that_closes_stops_advertising(
        self, client, google: FakeGoogle, shop: Shop, owner_dsn: str
    ) -> None:
        await self.stores(client, google, shop)
        await set_stock(client, shop, "clean-2", "STO-1", 3)
        await deliver_events()
        await run_sync_when_due(owner_dsn, shop.tenant)
        assert ("clean-2", "STO-1") in google.local_inventories

        closed = await client.put(
            shop.url("/locations/STO-1"),
            json={"name": "STO-1", "status": "archived"},
            headers=shop.owner.headers,
        )
        assert closed.status_code == 200, closed.text
        await deliver_events()
        await run_sync_when_due(owner_dsn, shop.tenant)
        assert google.local_deleted == [("clean-2", "STO-1")]
        assert not google.local_inventories

    async def test_the_daily_push_sends_every_stocked_product_to_each_store(
        self, client, google: FakeGoogle, shop: Shop
    ) -> None:
        await self.stores(client, google, shop)
        for product_id in CLEAN:  # their events are never delivered: only the daily push runs
            await set_stock(client, shop, product_id, "STO-1", 4)
        await push(client, shop)
        await run_queued_jobs("channels")
        assert set(google.local_inventories) == {(p, "STO-1") for p in CLEAN}
        dashboard = await signed_in(client, shop.owner)
        page = await dashboard.get(f"/app/t/{shop.tenant}/channels")
        assert f'data-local="STO-1">{len(CLEAN)}<' in page.text
