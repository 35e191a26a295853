"""Screens of capabilities beyond identity: locations and webhooks."""

from __future__ import annotations

import re

import psycopg

from tests.factories import add_member, create_tenant, signup_and_login
from tests.web.browser import signed_in


class TestLocations:
    async def test_a_manager_adds_and_edits_a_location(self, client, owner_dsn) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{tenant}/locations"
        empty = await dashboard.get(url)
        assert "No locations yet" in empty.text
        form = {
            "code": "STO-01",
            "name": "Main Street",
            "kind": "store",
            "timezone": "Europe/Stockholm",
            "status": "active",
        }
        added = await dashboard.post(url, form, htmx=True)
        assert "Main Street added." in added.text
        api = await client.get(f"/api/v1/tenants/{tenant}/locations/STO-01", headers=owner.headers)
        assert api.json()["timezone"] == "Europe/Stockholm"
        edit = await dashboard.get(url, params={"edit": "STO-01"})
        assert 'value="Main Street"' in edit.text
        saved = await dashboard.post(url, {**form, "name": "Main Street 2"}, htmx=True)
        assert "Main Street 2 saved." in saved.text
        with psycopg.connect(owner_dsn) as conn:
            actions = [
                row[0]
                for row in conn.execute(
                    "SELECT action FROM audit_log WHERE tenant_id = %s AND target = %s "
                    "ORDER BY created_at",
                    (tenant, "location:STO-01"),
                )
            ]
        assert actions == ["location.created", "location.replaced"]

    async def test_problems_are_shown_by_their_fields(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/locations"
        await dashboard.get(url)
        bad_code = await dashboard.post(url, {"code": "no spaces", "name": "X"}, htmx=True)
        assert bad_code.status_code == 422
        assert 'id="f-code-error"' in bad_code.text
        bad_zone = await dashboard.post(
            url, {"code": "W1", "name": "Depot", "timezone": "Mars/Olympus"}, htmx=True
        )
        assert 'id="f-timezone-error"' in bad_zone.text
        assert 'value="Depot"' in bad_zone.text

    async def test_a_viewer_reads_locations_but_cannot_change_them(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        await client.put(
            f"/api/v1/tenants/{tenant}/locations/WH",
            json={"name": "Warehouse", "kind": "warehouse"},
            headers=owner.headers,
        )
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        page = await dashboard.get(f"/app/t/{tenant}/locations")
        assert "Warehouse" in page.text
        assert "Save location" not in page.text
        refused = await dashboard.post(f"/app/t/{tenant}/locations", {"code": "X", "name": "X"})
        assert refused.status_code == 403


class TestWebhooks:
    async def test_an_admin_adds_tests_disables_and_deletes_an_endpoint(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/webhooks"
        await dashboard.get(url)
        created = await dashboard.post(
            url,
            {
                "url": "http://127.0.0.1:9/hook",
                "description": "ERP",
                "event_types": "order.created",
            },
            htmx=True,
        )
        assert created.status_code == 200, created.text
        secret = re.search(
            r'id="new-secret-value" class="key-value" type="text" value="([^"]+)"', created.text
        )
        assert secret
        listed = await client.get(f"/api/v1/tenants/{tenant}/webhooks", headers=owner.headers)
        endpoint = listed.json()["data"][0]
        assert endpoint["event_types"] == ["order.created"]
        again = await dashboard.get(url)
        assert secret.group(1) not in again.text

        base = f"{url}/{endpoint['id']}"
        tested = await dashboard.post(f"{base}/test", htmx=True)
        assert "webhook.ping delivery is queued" in tested.text
        deliveries = await dashboard.get(base)
        assert "<code>webhook.ping</code>" in deliveries.text
        disabled = await dashboard.post(f"{base}/status", {"status": "disabled"}, htmx=True)
        assert "is disabled." in disabled.text
        refused = await dashboard.post(f"{base}/test", htmx=True)
        assert refused.status_code == 422
        assert "enable it first" in refused.text
        deleted = await dashboard.post(f"{base}/delete", htmx=True)
        assert "The endpoint is deleted" in deleted.text
        assert "No endpoints yet" in deleted.text

    async def test_an_invalid_url_is_shown_by_the_field(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/webhooks"
        await dashboard.get(url)
        response = await dashboard.post(url, {"url": "not a url"}, htmx=True)
        assert response.status_code == 422
        assert 'id="f-url-error"' in response.text

    async def test_a_manager_has_no_webhook_screen(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        page = await dashboard.get(f"/app/t/{tenant}/settings/webhooks")
        assert page.status_code == 403
