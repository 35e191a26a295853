"""Marketing → Google channels and Business profile, over HTTP with a real database."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from mercato.kernel.db import get_database
from mercato.modules.channels.models import FeedPushJob, GbpInsightDaily, GbpLocation
from tests.factories import PASSWORD, add_member, create_tenant, signup_and_login
from tests.modules.channels.conftest import (  # noqa: F401  (fixtures)
    google,
    taxonomy_file,
    taxonomy_in_database,
)
from tests.modules.channels.shop import DEFECTS, build_shop
from tests.modules.channels.test_google_oauth import linked_tenant
from tests.web.browser import signed_in
from tests.web.test_screens import make_stale


async def _job(tenant: str, status: str) -> uuid.UUID:
    """A push job as the worker leaves it (pushing needs a linked Google account)."""
    async with get_database().tenant_session(uuid.UUID(tenant)) as session:
        job = FeedPushJob(
            tenant_id=uuid.UUID(tenant),
            account_id="123456",
            status=status,
            trigger="manual",
            requested_by="user:someone",
            max_attempts=3,
            attempts=3 if status == "failed" else 0,
            error="Merchant API answered 503" if status == "failed" else None,
        )
        session.add(job)
        await session.flush()
        return job.id


class TestChannels:
    async def test_a_precheck_lists_each_products_issues(
        self,
        client,
        taxonomy_in_database,  # noqa: F811
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        await build_shop(client, tenant, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/channels"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert "Run precheck" in page.text
        checked = await dashboard.post(f"{url}/precheck", htmx=True)
        assert checked.status_code == 200, checked.text
        assert 'data-kpi="checked">9<' in checked.text
        assert 'data-kpi="invalid">5<' in checked.text
        for product_id, (attribute, code) in DEFECTS.items():
            assert f"<code>{product_id}</code>" in checked.text
            assert f"<code>{attribute}</code>" in checked.text
            assert f"<code>{code}</code>" in checked.text
        assert "badge severity-error" in checked.text

    async def test_the_hosted_feed_is_shown_and_rotated(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{tenant}/channels"
        page = await dashboard.get(url)
        old = re.search(
            r'id="feed-xml-url" class="key-value" type="text" value="([^"]+)"', page.text
        )
        assert old
        api = await client.get(f"/api/v1/tenants/{tenant}/feed/settings", headers=owner.headers)
        assert api.json()["feed_url"] == old.group(1)
        rotated = await dashboard.post(f"{url}/feed/rotate", htmx=True)
        assert "The feed has new addresses" in rotated.text
        assert old.group(1) not in rotated.text
        assert "Google account" not in rotated.text  # a manager does not manage integrations

    async def test_push_without_google_and_job_cancel_and_retry(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        failed = await _job(tenant, "failed")
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/channels"
        page = await dashboard.get(url)
        assert "Merchant API answered 503" in page.text
        assert "not linked" in page.text
        pushed = await dashboard.post(f"{url}/push", htmx=True)
        assert pushed.status_code == 409
        assert "Link a Google account first" in pushed.text
        retried = await dashboard.post(
            f"{url}/jobs/{failed}/status", {"status": "queued"}, htmx=True
        )
        assert retried.status_code == 200, retried.text
        assert "The job is queued again." in retried.text
        cancelled = await dashboard.post(
            f"{url}/jobs/{failed}/status", {"status": "failed"}, htmx=True
        )
        assert "The job is cancelled." in cancelled.text
        wrong = await dashboard.post(f"{url}/jobs/{failed}/status", {"status": "done"}, htmx=True)
        assert wrong.status_code == 422
        linking = await dashboard.post(f"{url}/google/link")
        assert linking.status_code == 409  # no OAuth client configured in this deployment
        assert "MERCATO_GOOGLE_CLIENT_ID" in linking.text

    async def test_a_viewer_sees_no_buttons_it_cannot_use(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        job = await _job(tenant, "failed")
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/channels"
        page = await dashboard.get(url)
        for label in ("Rotate addresses", "Push products now", ">Retry<", "Link a Google account"):
            assert label not in page.text
        assert (await dashboard.post(f"{url}/feed/rotate")).status_code == 403
        assert (
            await dashboard.post(f"{url}/jobs/{job}/status", {"status": "queued"})
        ).status_code == 403

    async def test_link_goes_to_googles_consent_screen_and_comes_back_here(
        self,
        client,
        google,  # noqa: F811
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/channels"
        await dashboard.get(url)
        linking = await dashboard.post(f"{url}/google/link")
        assert linking.status_code == 303
        consent = linking.headers["location"]
        assert consent.startswith(google.settings_env()["MERCATO_GOOGLE_OAUTH_AUTHORIZE_URL"])
        assert f"state={tenant}." in consent
        assert "mercato_google_link=" in linking.headers["set-cookie"]
        assert "Path=/api/v1/google/oauth/callback" in linking.headers["set-cookie"]
        by_htmx = await dashboard.post(f"{url}/google/link", htmx=True)
        assert by_htmx.status_code == 204
        assert by_htmx.headers["hx-redirect"].startswith(consent.split("?")[0])

    async def test_linking_with_a_stale_login_asks_for_the_password_first(
        self,
        client,
        google,  # noqa: F811
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        await make_stale(client, owner)
        url = f"/app/t/{tenant}/channels"
        await dashboard.get(url)
        asked = await dashboard.post(f"{url}/google/link")
        assert asked.status_code == 200
        assert 'id="google-f-current_password"' in asked.text
        assert "mercato_google_link" not in asked.headers.get("set-cookie", "")
        linking = await dashboard.post(f"{url}/google/link", {"current_password": PASSWORD})
        assert linking.status_code == 303
        assert "mercato_access=" in linking.headers["set-cookie"]  # the stepped-up token

    async def test_a_linked_account_is_shown_and_unlinked(
        self,
        client,
        google,  # noqa: F811
    ) -> None:
        tenant, owner = await linked_tenant(client, google)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/channels"
        page = await dashboard.get(url)
        assert '<span class="badge status-active">linked</span>' in page.text
        assert "Link again" in page.text
        unlinked = await dashboard.post(f"{url}/google/unlink", htmx=True)
        assert unlinked.status_code == 200, unlinked.text
        assert "The Google account is unlinked" in unlinked.text
        api = await client.get(f"/api/v1/tenants/{tenant}/google/oauth", headers=owner.headers)
        assert api.json()["linked"] is False

    async def test_business_profile_insights_are_charted_per_day(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        today = datetime.now(UTC).date()
        async with get_database().tenant_session(uuid.UUID(tenant)) as session:
            for location in ("loc-a", "loc-b"):
                session.add(
                    GbpLocation(
                        tenant_id=uuid.UUID(tenant),
                        gbp_location_id=location,
                        account_id="acc",
                        title=location,
                    )
                )
            await session.flush()
            for days_ago, views in ((2, 10), (1, 30)):
                for location in ("loc-a", "loc-b"):
                    session.add(
                        GbpInsightDaily(
                            tenant_id=uuid.UUID(tenant),
                            gbp_location_id=location,
                            day=today - timedelta(days=days_ago),
                            views=views,
                            searches=1,
                        )
                    )
        dashboard = await signed_in(client, owner)
        page = await dashboard.get(f"/app/t/{tenant}/channels")
        assert '<svg class="chart chart-line"' in page.text
        day = (today - timedelta(days=1)).strftime("%m-%d")
        assert f"<title>{day}: 62</title>" in page.text  # both locations, views and searches


class TestBusinessProfile:
    async def test_save_and_see_validation_by_the_fields(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/business-profile"
        empty = await dashboard.get(url)
        assert empty.status_code == 200
        assert 'data-check="missing_name"' in empty.text
        assert 'data-check="missing_phone"' in empty.text
        saved = await dashboard.post(
            url,
            {
                "name": "Nordic Home",
                "phone": "+46 8 123 456 78",
                "street_address": "Drottninggatan 1",
                "locality": "Stockholm",
                "postal_code": "111 51",
                "country_code": "se",
                "website": "https://nordic.example",
                "categories": "Furniture store, Garden centre",
            },
            htmx=True,
        )
        assert saved.status_code == 200, saved.text
        assert "The business profile is saved." in saved.text
        assert 'data-check="missing_name"' not in saved.text
        api = await client.get(f"/api/v1/tenants/{tenant}/profile", headers=owner.headers)
        assert api.json()["address"]["country_code"] == "SE"
        assert api.json()["categories"] == ["Furniture store", "Garden centre"]

        refused = await dashboard.post(
            url, {"name": "Nordic Home", "country_code": "XX", "website": "nordic"}, htmx=True
        )
        assert refused.status_code == 422
        assert 'id="f-country_code-error">not an ISO 3166-1 alpha-2 country code' in refused.text
        assert 'id="f-website-error"' in refused.text

    async def test_a_viewer_reads_the_profile_without_a_save_button(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/business-profile"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert "Save profile" not in page.text
        assert (await dashboard.post(url, {"name": "Mine"})).status_code == 403
