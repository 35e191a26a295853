"""Overview analytics, task lists and reports screens."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from mercato.modules.analytics import roll_up_tenant
from tests.factories import add_member
from tests.modules.analytics.events import Ev, send, utc_now
from tests.modules.tracking.helpers import new_shop, set_locale
from tests.web.browser import signed_in


async def _shop_with_sales(client):
    shop = await new_shop(client)
    now = utc_now()
    at = now - timedelta(days=2)
    events = [
        Ev("view_item", "u1", "s1", at, "B1", "sku-red"),
        Ev("add_to_cart", "u1", "s1", at + timedelta(minutes=1), "B1", "sku-red", 1),
        Ev("begin_checkout", "u1", "s1", at + timedelta(minutes=2), "B1"),
        Ev(
            "purchase",
            "u1",
            "s1",
            at + timedelta(minutes=3),
            "B1",
            "sku-red",
            2,
            Decimal("123.40"),
            "ORD-9",
        ),
        Ev("view_item", "u2", "s2", at, "B1", "sku-blue"),
        Ev("add_to_cart", "u2", "s2", at + timedelta(minutes=1), "B1", "sku-blue", 1),
    ]
    await send(client, shop, events)
    await roll_up_tenant(uuid.UUID(shop.tenant_id), now=now)
    response = await client.put(
        f"{shop.base}/locations/B1", json={"name": "Harbour"}, headers=shop.owner.headers
    )
    assert response.status_code == 201
    return shop


class TestOverview:
    async def test_kpis_charts_funnel_products_and_locations(self, client) -> None:
        shop = await _shop_with_sales(client)
        dashboard = await signed_in(client, shop.owner)
        page = await dashboard.get(f"/app/t/{shop.tenant_id}")
        assert page.status_code == 200
        html = page.text
        assert "Sales and traffic" in html
        assert '<p class="kpi-value" data-kpi="revenue">€123.40</p>' in html
        assert '<p class="kpi-value" data-kpi="purchases">1</p>' in html
        assert '<p class="kpi-value" data-kpi="sessions">2</p>' in html
        assert "no earlier data" in html
        assert html.count("<svg") >= 3
        assert "sku-red" in html
        assert "Harbour" in html
        assert 'type="date"' in html
        assert "Closed funnel" in html
        assert "sessions that did every previous step, in order" in html
        assert "funnel=open" in html

    @pytest.mark.parametrize(
        ("locale", "currency", "revenue", "conversion"),
        [
            ("en-US", "USD", "$123.40", "50.00%"),
            ("de-DE", "EUR", "123,40\xa0€", "50,00\xa0%"),
            ("ja-JP", "JPY", "￥123", "50.00%"),
        ],
    )
    async def test_amounts_carry_the_tenants_currency_in_its_locale(
        self, client, locale, currency, revenue, conversion
    ) -> None:
        shop = await _shop_with_sales(client)
        await set_locale(client, shop, locale, currency)
        dashboard = await signed_in(client, shop.owner)
        html = (await dashboard.get(f"/app/t/{shop.tenant_id}")).text
        assert f'<p class="kpi-value" data-kpi="revenue">{revenue}</p>' in html
        assert f'<p class="kpi-value" data-kpi="average_order_value">{revenue}</p>' in html
        assert f'<p class="kpi-value" data-kpi="conversion_rate">{conversion}</p>' in html
        assert f'<td data-label="Revenue" class="num">{revenue}</td>' in html

    async def test_the_open_funnel_is_one_link_away_and_survives_a_range_change(
        self, client
    ) -> None:
        shop = await _shop_with_sales(client)
        dashboard = await signed_in(client, shop.owner)
        page = await dashboard.get(f"/app/t/{shop.tenant_id}", params={"funnel": "open"})
        assert page.status_code == 200
        assert "Open funnel" in page.text
        assert 'data-funnel="open"' in page.text
        assert '<input type="hidden" name="funnel" value="open">' in page.text
        assert "funnel=closed" in page.text
        odd = await dashboard.get(f"/app/t/{shop.tenant_id}", params={"funnel": "<b>"})
        assert 'data-funnel="closed"' in odd.text

    async def test_the_range_picker_swaps_the_analytics_and_reports_bad_ranges(
        self, client
    ) -> None:
        shop = await _shop_with_sales(client)
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant_id}"
        old = await client.get(
            url, params={"start": "2020-01-01", "end": "2020-01-31"}, headers={"HX-Request": "true"}
        )
        assert old.status_code == 200
        assert 'id="analytics"' in old.text
        assert "<html" not in old.text
        assert 'data-kpi="revenue">€0.00<' in old.text
        bad = await dashboard.get(url, params={"start": "2026-03-10", "end": "2026-03-01"})
        assert 'id="range-error"' in bad.text
        assert "before" in bad.text


class TestTasks:
    async def test_a_manager_sees_the_cart_marks_it_done_and_downloads_csv(self, client) -> None:
        shop = await _shop_with_sales(client)
        manager = await add_member(client, shop.owner, shop.tenant_id, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{shop.tenant_id}/tasks"
        page = await dashboard.get(url, params={"list": "cart-abandonment"})
        assert page.status_code == 200
        assert ">u2</a>" in page.text
        assert "sku-blue" in page.text
        done = await dashboard.post(
            f"{url}/status?list=cart-abandonment&status=open",
            {
                "list": "cart-abandonment",
                "key": f"u2:{(utc_now() - timedelta(days=2)).date()}",
                "status": "done",
            },
            htmx=True,
        )
        assert done.status_code == 200
        assert "Marked done." in done.text
        assert ">u2<" not in done.text
        history = await dashboard.get(f"{url}/users/u1")
        assert history.status_code == 200
        assert "purchase" in history.text
        assert "sku-red" in history.text
        assert "123.4" in history.text
        csv = await dashboard.get(f"{url}/export.csv", params={"list": "purchase-followups"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert "ORD-9" in csv.text

    async def test_a_viewer_has_no_tasks_screen(self, client) -> None:
        shop = await _shop_with_sales(client)
        viewer = await add_member(client, shop.owner, shop.tenant_id, "viewer")
        dashboard = await signed_in(client, viewer)
        home = await dashboard.get(f"/app/t/{shop.tenant_id}")
        assert ">Tasks</a>" not in home.text
        denied = await dashboard.get(f"/app/t/{shop.tenant_id}/tasks")
        assert denied.status_code == 403


class TestReports:
    async def test_a_manager_maps_recipients_schedules_and_sends(self, client) -> None:
        shop = await _shop_with_sales(client)
        manager = await add_member(client, shop.owner, shop.tenant_id, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{shop.tenant_id}/reports"
        page = await dashboard.get(url)
        assert "No branch has recipients yet." in page.text
        bad = await dashboard.post(
            f"{url}/branches", {"location_code": "B1", "recipients": "not-an-address"}, htmx=True
        )
        assert bad.status_code == 422
        assert 'id="f-recipients-error"' in bad.text
        saved = await dashboard.post(
            f"{url}/branches", {"location_code": "B1", "recipients": "boss@b1.example"}, htmx=True
        )
        assert "Recipients of B1 saved." in saved.text
        assert "boss@b1.example" in saved.text
        scheduled = await dashboard.post(
            f"{url}/schedules",
            {"frequency": "weekly", "hour": "7", "weekday": "0", "enabled": "on"},
            htmx=True,
        )
        assert "The weekly schedule is saved." in scheduled.text
        assert "Mondays, 07:00" in scheduled.text
        no_day = await dashboard.post(
            f"{url}/schedules", {"frequency": "weekly", "hour": "7"}, htmx=True
        )
        assert 'id="f-weekday-error"' in no_day.text
        odd = await dashboard.post(
            f"{url}/schedules", {"frequency": "hourly", "hour": "7"}, htmx=True
        )
        assert odd.status_code == 422
        assert 'id="f-frequency-error"' in odd.text
        sent = await dashboard.post(
            f"{url}/send", {"location_code": "B1", "period": "day"}, htmx=True
        )
        assert "queued" in sent.text
        assert "manual" in sent.text

    async def test_a_viewer_reads_reports_without_forms(self, client) -> None:
        shop = await _shop_with_sales(client)
        viewer = await add_member(client, shop.owner, shop.tenant_id, "viewer")
        dashboard = await signed_in(client, viewer)
        page = await dashboard.get(f"/app/t/{shop.tenant_id}/reports")
        assert page.status_code == 200
        assert "Save recipients" not in page.text
        assert "Send report now" not in page.text
