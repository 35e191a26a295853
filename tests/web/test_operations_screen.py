"""Insights → Feedback and Marketing → Content pages, over HTTP with a real database."""

from __future__ import annotations

from tests.factories import add_member, create_tenant, signup_and_login
from tests.web.browser import signed_in


class TestFeedback:
    async def test_the_summary_counts_ratings(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        for rating, comment in ((5, "Lovely sofa"), (4, None), (2, "Slow delivery")):
            made = await client.post(
                f"/api/v1/tenants/{tenant}/feedback",
                json={"rating": rating, "category": "delivery", "comment": comment},
                headers=owner.headers,
            )
            assert made.status_code == 201, made.text
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        page = await dashboard.get(f"/app/t/{tenant}/feedback")
        assert page.status_code == 200
        assert 'data-kpi="feedback-count">3<' in page.text
        assert ">3.7<" in page.text  # (5 + 4 + 2) / 3
        assert ">67 %<" in page.text  # two of three rated 4 or 5
        assert "Slow delivery" in page.text

    async def test_nothing_yet_is_said_plainly(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        page = await dashboard.get(f"/app/t/{tenant}/feedback")
        assert "No feedback in this period yet." in page.text


class TestContentPages:
    async def test_a_manager_creates_a_page_and_sees_problems_by_field(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        url = f"/app/t/{tenant}/content/pages"
        assert "No pages yet." in (await dashboard.get(url)).text
        form = {
            "title": "Delivery",
            "slug": "delivery-terms",
            "body": "# Delivery",
            "status": "published",
        }
        created = await dashboard.post(url, form, htmx=True)
        assert created.status_code == 200, created.text
        assert "“Delivery” is created (published)." in created.text
        assert "<code>delivery-terms</code>" in created.text
        taken = await dashboard.post(url, form, htmx=True)
        assert taken.status_code == 409
        assert "already used" in taken.text
        bad = await dashboard.post(url, {**form, "slug": "Not A Slug", "title": ""}, htmx=True)
        assert bad.status_code == 422
        assert 'id="f-slug-error"' in bad.text
        assert 'id="f-title-error"' in bad.text

    async def test_a_viewer_reads_pages_without_the_form(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        url = f"/app/t/{tenant}/content/pages"
        page = await dashboard.get(url)
        assert page.status_code == 200
        assert "Create page" not in page.text
        assert (await dashboard.post(url, {"title": "x", "slug": "x"})).status_code == 403
