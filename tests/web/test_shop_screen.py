"""Settings → Shop: the tenant's locale, currency and time zone, set from the dashboard."""

from __future__ import annotations

from tests.factories import add_member, create_tenant, signup_and_login
from tests.web.browser import signed_in


class TestShopSettings:
    async def test_an_owner_sets_locale_and_currency_and_amounts_follow(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/shop"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert 'data-sample="money">€1,234,567.89<' in page.text  # the defaults: en-US, EUR
        saved = await dashboard.post(
            url, {"locale": "de-DE", "currency": "CHF", "timezone": "Europe/Zurich"}, htmx=True
        )
        assert saved.status_code == 200, saved.text
        assert "Shop settings saved." in saved.text
        assert 'data-sample="money">1.234.567,89\xa0CHF<' in saved.text
        assert 'data-sample="percent">3,45\xa0%<' in saved.text
        read = await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)
        assert read.json()["settings"] == {
            "locale": "de-DE",
            "currency": "CHF",
            "timezone": "Europe/Zurich",
        }
        audit = await client.get(f"/api/v1/tenants/{tenant}/audit-logs", headers=owner.headers)
        assert "tenant.updated" in [entry["action"] for entry in audit.json()["data"]]

    async def test_an_unknown_locale_is_shown_by_its_field_and_nothing_changes(
        self, client
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/shop"
        await dashboard.get(url)
        bad = await dashboard.post(url, {"locale": "xx-YY", "currency": "JPY"}, htmx=True)
        assert bad.status_code == 422
        assert "unknown locale" in bad.text
        assert 'aria-invalid="true"' in bad.text
        read = await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)
        assert read.json()["settings"] == {}

    async def test_a_viewer_reads_the_settings_but_cannot_change_them(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/settings/shop"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert "Save shop settings" not in page.text
        assert (await dashboard.post(url, {"locale": "de-DE"})).status_code == 403
