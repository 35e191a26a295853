"""Insights → Tracking and the event explorer, over HTTP with a real database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.factories import add_member
from tests.modules.tracking.helpers import Shop, new_shop, stamp, view
from tests.web.browser import signed_in


async def _events(client, shop: Shop) -> None:
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    events = [
        view("ann", "sofa-1", timestamp=stamp(yesterday), session_id="s1"),
        view("ann", "lamp-2", timestamp=stamp(yesterday + timedelta(minutes=1)), session_id="s1"),
        {"type": "search", "user_id": "bob", "query": "garden chair", "timestamp": stamp(now)},
    ]
    response = await client.post(
        f"{shop.base}/events/batch", json={"events": events}, headers=shop.key_headers
    )
    assert response.json()["accepted"] == 3, response.text


class TestTracking:
    async def test_the_calendar_counts_events_per_day(self, client) -> None:
        shop = await new_shop(client)
        await _events(client, shop)
        viewer = await add_member(client, shop.owner, shop.tenant_id, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{shop.tenant_id}/tracking"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert 'data-kpi="events">3<' in page.text
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
        assert f"{yesterday}: 2 events (api 2)" in page.text
        assert 'class="heat-4"' in page.text
        assert "Queue import" not in page.text  # a viewer cannot import

        narrow = await dashboard.get(url, params={"start": str(yesterday), "end": str(yesterday)})
        assert 'data-kpi="events">2<' in narrow.text
        bad = await dashboard.get(url, params={"start": "yesterday"})
        assert bad.status_code == 422
        assert "a date like" in bad.text

    async def test_a_manager_queues_an_import_and_sees_problems_by_field(self, client) -> None:
        shop = await new_shop(client)
        manager = await add_member(client, shop.owner, shop.tenant_id, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{shop.tenant_id}/tracking"
        await dashboard.get(url)
        refused = await dashboard.post(
            f"{url}/imports",
            {"source": "ga4_file", "start": "2026-11-30", "end": "2026-11-01"},
            htmx=True,
        )
        assert refused.status_code == 422, refused.text
        assert "field-error" in refused.text
        unknown = await dashboard.post(f"{url}/imports", {"source": "ftp"}, htmx=True)
        assert unknown.status_code == 422
        assert 'id="i-f-source-error"' in unknown.text
        queued = await dashboard.post(
            f"{url}/imports",
            {"source": "ga4_file", "start": "2026-11-01", "end": "2026-11-02"},
            htmx=True,
        )
        # No export files were uploaded: the service's problem is shown above the form.
        assert queued.status_code == 404, queued.text
        assert "Nothing to import at the import folder" in queued.text
        jobs = await client.get(f"{shop.base}/ingest/jobs", headers=shop.owner.headers)
        assert jobs.json()["data"] == []
        uploaded = await client.post(
            f"{shop.base}/ingest/import",
            params={"file_name": "events_20261101.json"},
            content=b"{}\n",
            headers=shop.owner.headers,
        )
        assert uploaded.status_code == 201, uploaded.text
        queued = await dashboard.post(
            f"{url}/imports",
            {"source": "ga4_file", "start": "2026-11-01", "end": "2026-11-01"},
            htmx=True,
        )
        assert queued.status_code == 200, queued.text
        assert "The ga4 file import is queued." in queued.text
        jobs = await client.get(f"{shop.base}/ingest/jobs", headers=shop.owner.headers)
        assert [job["source"] for job in jobs.json()["data"]] == ["ga4_file"]
        assert "badge status-queued" in queued.text
        viewer = await add_member(client, shop.owner, shop.tenant_id, "viewer")
        as_viewer = await signed_in(client, viewer)
        assert (await as_viewer.post(f"{url}/imports", {"source": "sftp"})).status_code == 403


class TestEventExplorer:
    async def test_filters_and_the_shopper_timeline(self, client) -> None:
        shop = await new_shop(client)
        await _events(client, shop)
        dashboard = await signed_in(client, shop.owner)
        url = f"/app/t/{shop.tenant_id}/events"
        everything = await dashboard.get(url)
        assert everything.status_code == 200
        assert "“garden chair”" in everything.text
        assert "<code>lamp-2</code>" in everything.text
        ann = await dashboard.get(url, params={"user_id": "ann"}, headers={"HX-Request": "true"})
        assert "<code>sofa-1</code>" in ann.text
        assert "garden chair" not in ann.text
        searches = await dashboard.get(url, params={"type": "search"})
        assert "garden chair" in searches.text
        assert "<code>sofa-1</code>" not in searches.text
        wrong = await dashboard.get(url, params={"type": "teleport"})
        assert wrong.status_code == 422
        assert "one of the event types" in wrong.text
        none = await dashboard.get(url, params={"user_id": "nobody"})
        assert "No events match these filters." in none.text

        timeline = await dashboard.get(f"/app/t/{shop.tenant_id}/events/users/ann")
        assert timeline.status_code == 200
        assert "2 events" in timeline.text
        assert timeline.text.index("sofa-1") < timeline.text.index("lamp-2")
        empty = await dashboard.get(f"/app/t/{shop.tenant_id}/events/users/nobody")
        assert "No events for this shopper." in empty.text


async def test_one_navigation_entry_is_current_per_page(client) -> None:
    shop = await new_shop(client)
    dashboard = await signed_in(client, shop.owner)
    for path, current in (
        ("events", "Event explorer"),
        ("events/users/ann", "Event explorer"),
        ("tracking", "Tracking"),
        ("business-profile", "Business profile"),
        ("channels", "Google channels"),
    ):
        page = await dashboard.get(f"/app/t/{shop.tenant_id}/{path}")
        marked = re.findall(r'aria-current="page"[^>]*>\s*([^<]+?)\s*<', page.text)
        assert marked == [current], (path, marked)
