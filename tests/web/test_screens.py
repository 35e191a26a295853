"""Tenant screens: role-aware navigation, members, API keys with step-up, the audit log."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mercato.web.session import claimed_session_id
from tests.factories import (
    PASSWORD,
    add_member,
    create_tenant,
    invite,
    login,
    signup_and_login,
    token_with_auth_time,
    unique_email,
)
from tests.mailbox import mailed_token
from tests.web.browser import Dashboard, accept_in_dashboard, signed_in

SDK_PACKAGE = Path(__file__).parents[2] / "sdk" / "package.json"

NAV = re.compile(r'<nav id="sidebar".*?</nav>', re.S)


def nav_of(html: str) -> str:
    match = NAV.search(html)
    assert match
    return match.group(0)


async def make_stale(client, staff) -> None:
    """Replace the access cookie by one of the same session whose login is ten minutes old
    (no step-up), as if the person had been working for a while."""
    current = client.cookies.get("mercato_access", path="/app")
    session = uuid.UUID(claimed_session_id(current)) if current else None
    stale = await token_with_auth_time(
        staff.id, datetime.now(UTC) - timedelta(minutes=10), session_id=session
    )
    client.cookies.set("mercato_access", stale, domain="testserver.local", path="/app")


class TestNavigation:
    @pytest.mark.parametrize(
        ("role", "visible", "hidden"),
        [
            ("viewer", ["Overview", "Locations"], ["Members &amp; roles", "API keys", "Webhooks"]),
            ("manager", ["Overview", "Members &amp; roles"], ["API keys", "Audit log", "Webhooks"]),
            ("admin", ["Members &amp; roles", "API keys", "Webhooks", "Audit log"], []),
        ],
    )
    async def test_each_role_sees_only_the_screens_it_may_open(
        self, client, role, visible, hidden
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        member = await add_member(client, owner, tenant, role)
        dashboard = await signed_in(client, member)
        page = await dashboard.get(f"/app/t/{tenant}")
        assert page.status_code == 200
        nav = nav_of(page.text)
        for title in visible:
            assert f">{title}</a>" in nav
        for title in hidden:
            assert title not in nav

    async def test_a_viewer_gets_no_create_key_button_and_no_key_screen(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        overview = await dashboard.get(f"/app/t/{tenant}")
        assert "Create key" not in overview.text
        assert "Manage API keys" not in overview.text
        screen = await dashboard.get(f"/app/t/{tenant}/settings/api-keys")
        assert screen.status_code == 403
        assert "api_keys:read" in screen.text
        write = await dashboard.post(
            f"/app/t/{tenant}/settings/api-keys",
            {"name": "k", "kind": "secret", "permission": "read"},
        )
        assert write.status_code == 403

    async def test_a_manager_sees_members_but_cannot_invite(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        manager = await add_member(client, owner, tenant, "manager")
        dashboard = await signed_in(client, manager)
        page = await dashboard.get(f"/app/t/{tenant}/settings/members")
        assert page.status_code == 200
        assert owner.email in page.text
        assert "Invite someone" not in page.text
        assert "Change role" not in page.text
        assert "Remove" not in page.text

    async def test_another_tenant_is_not_found(self, client) -> None:
        owner = await signup_and_login(client)
        await create_tenant(client, owner)
        stranger = await signup_and_login(client)
        foreign = await create_tenant(client, stranger)
        dashboard = await signed_in(client, owner)
        response = await dashboard.get(f"/app/t/{foreign}/settings/members")
        assert response.status_code == 404
        assert "Not found" in response.text

    async def test_the_tenant_switcher_lists_every_membership(self, client) -> None:
        owner = await signup_and_login(client)
        first = await create_tenant(client, owner, name="First Shop")
        await create_tenant(client, owner, name="Second Shop")
        dashboard = await signed_in(client, owner)
        page = await dashboard.get(f"/app/t/{first}")
        switcher = page.text.split('class="tenant-switcher')[1].split("</details>")[0]
        assert "First Shop" in switcher
        assert "Second Shop" in switcher


class TestApiKeys:
    async def test_a_fresh_login_creates_a_key_shown_once(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/api-keys"
        await dashboard.get(url)
        created = await dashboard.post(
            url, {"name": "ERP sync", "kind": "secret", "permission": "read_write", "mode": "live"}
        )
        assert created.status_code == 200
        key = re.search(r'value="(mk_live_[0-9A-Za-z]{43})"', created.text)
        assert key, "the new key is displayed"
        assert 'data-copy="#new-key-value"' in created.text
        works = await client.get(f"/api/v1/tenants/{tenant}", headers={"X-API-Key": key.group(1)})
        assert works.status_code == 200
        again = await dashboard.get(url)
        assert key.group(1) not in again.text
        assert key.group(1)[:12] in again.text

    async def test_a_stale_login_is_asked_for_the_password_first(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        await make_stale(client, owner)
        url = f"/app/t/{tenant}/settings/api-keys"
        await dashboard.get(url)
        body = {
            "name": "Shop",
            "kind": "publishable",
            "permission": "read_write",
            "allowed_origins": "https://shop.example",
        }
        prompt = await dashboard.post(url, body, htmx=True)
        assert prompt.status_code == 200
        assert "<html" not in prompt.text  # an htmx fragment
        assert 'name="current_password"' in prompt.text
        assert 'value="Shop"' in prompt.text  # what was typed is kept
        assert "mk_live_" not in prompt.text

        wrong = await dashboard.post(url, {**body, "current_password": "wrong-one-123"}, htmx=True)
        assert 'id="f-current_password-error"' in wrong.text
        assert "mk_live_" not in wrong.text

        done = await dashboard.post(url, {**body, "current_password": PASSWORD}, htmx=True)
        assert re.search(r'value="mk_live_[0-9A-Za-z]{43}"', done.text)
        refreshed = client.cookies.get("mercato_access", path="/app")
        session = await client.get(
            "/api/v1/auth/session", headers={"Authorization": f"Bearer {refreshed}"}
        )
        auth_time = datetime.fromisoformat(session.json()["auth_time"])
        assert datetime.now(UTC) - auth_time < timedelta(minutes=1)

    async def test_api_validation_problems_are_shown_by_their_fields(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/api-keys"
        await dashboard.get(url)
        response = await dashboard.post(
            url, {"name": "Shop", "kind": "publishable", "permission": "read"}
        )
        assert response.status_code == 422
        assert 'id="f-allowed_origins-error"' in response.text
        bad_origin = await dashboard.post(
            url,
            {
                "name": "Shop",
                "kind": "publishable",
                "permission": "read",
                "allowed_origins": "not an origin",
            },
        )
        assert "is not an origin like https://shop.example" in bad_origin.text

    async def test_revoking_needs_step_up_and_stops_the_key(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/api-keys"
        await dashboard.get(url)
        created = await dashboard.post(url, {"name": "Old", "kind": "secret", "permission": "read"})
        raw = re.search(r'value="(mk_live_[0-9A-Za-z]{43})"', created.text).group(1)
        listed = await client.get(f"/api/v1/tenants/{tenant}/api-keys", headers=owner.headers)
        key_id = listed.json()["data"][0]["id"]
        await make_stale(client, owner)
        revoke = f"{url}/{key_id}/revoke"
        prompt = await dashboard.post(revoke, htmx=True)
        assert f'id="k-{key_id}-f-current_password"' in prompt.text
        done = await dashboard.post(revoke, {"current_password": PASSWORD}, htmx=True)
        assert "The key is revoked" in done.text
        refused = await client.get(f"/api/v1/tenants/{tenant}", headers={"X-API-Key": raw})
        assert refused.status_code == 401


class TestMembers:
    async def test_invite_accept_change_role_and_remove_with_step_up(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        colleague = await signup_and_login(client, name="Colleague")
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/members"
        await dashboard.get(url)
        added = await dashboard.post(url, {"email": colleague.email, "role": "viewer"}, htmx=True)
        assert f"{colleague.email} invited as viewer" in added.text
        assert "Colleague" not in added.text  # the account's name is not revealed
        duplicate = await dashboard.post(
            url, {"email": colleague.email, "role": "viewer"}, htmx=True
        )
        assert duplicate.status_code == 409
        assert "already invited" in duplicate.text
        await accept_in_dashboard(client, colleague.email, {"password": "colleagues-new-pass"})
        listed = await dashboard.get(url)
        assert "Colleague" in listed.text

        await make_stale(client, owner)
        await dashboard.get(url)
        change = f"{url}/{colleague.id}/role"
        prompt = await dashboard.post(change, {"role": "admin"}, htmx=True)
        assert 'name="current_password"' in prompt.text
        changed = await dashboard.post(
            change, {"role": "admin", "current_password": PASSWORD}, htmx=True
        )
        assert f"{colleague.email} is now admin" in changed.text

        await make_stale(client, owner)
        await dashboard.get(url)
        remove = f"{url}/{colleague.id}/remove"
        asked = await dashboard.post(remove, htmx=True)
        assert 'id="r-' + colleague.id + '-f-current_password"' in asked.text
        assert colleague.email in asked.text
        removed = await dashboard.post(remove, {"current_password": PASSWORD}, htmx=True)
        assert "Member removed" in removed.text
        assert colleague.email not in removed.text

    async def test_inviting_with_a_stale_login_asks_for_the_password(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        await make_stale(client, owner)
        url = f"/app/t/{tenant}/settings/members"
        await dashboard.get(url)
        email = unique_email("later")
        asked = await dashboard.post(url, {"email": email, "role": "viewer"}, htmx=True)
        assert 'id="invite-f-current_password"' in asked.text
        assert "invited as" not in asked.text
        done = await dashboard.post(
            url, {"email": email, "role": "viewer", "current_password": PASSWORD}, htmx=True
        )
        assert f"{email} invited as viewer" in done.text

    async def test_the_accept_page_creates_the_account_of_a_new_address(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        email = unique_email("newcomer")
        await invite(client, owner, tenant, email)
        visitor = Dashboard(client)
        bogus = await visitor.get("/app/accept-invitation?token=not-a-real-token")
        assert bogus.status_code == 400
        assert "invalid or has expired" in bogus.text
        token = mailed_token(email, "member_invited")
        page = await visitor.get(f"/app/accept-invitation?token={token}")
        assert 'name="name"' in page.text
        assert 'name="password"' in page.text
        missing = await visitor.post("/app/accept-invitation", {"token": token})
        assert missing.status_code == 422
        await accept_in_dashboard(client, email, {"name": "New Person", "password": PASSWORD})
        member = await login(client, email)
        assert (
            await client.get(f"/api/v1/tenants/{tenant}", headers=member.headers)
        ).status_code == 200

    async def test_the_last_owner_cannot_be_removed(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        admin = await add_member(client, owner, tenant, "admin")
        dashboard = await signed_in(client, admin)
        url = f"/app/t/{tenant}/settings/members"
        page = await dashboard.get(url)
        assert "owner" in page.text
        # An admin is offered no owner controls, and the service refuses the request anyway.
        assert f"{url}/{owner.id}/remove" not in page.text
        refused = await dashboard.post(f"{url}/{owner.id}/remove", htmx=True)
        assert refused.status_code == 403
        assert "Only an owner" in refused.text

    async def test_the_role_menu_offers_no_role_above_ones_own(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        admin = await add_member(client, owner, tenant, "admin")
        dashboard = await signed_in(client, admin)
        page = await dashboard.get(f"/app/t/{tenant}/settings/members")
        invite = page.text.split('id="invite-title"')[1].split("</form>")[0]
        assert 'value="admin"' in invite
        assert 'value="viewer"' in invite
        assert 'value="owner"' not in invite


class TestAuditLog:
    async def test_entries_filters_and_pages(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        for number in range(27):
            renamed = await client.patch(
                f"/api/v1/tenants/{tenant}", json={"name": f"Shop {number}"}, headers=owner.headers
            )
            assert renamed.status_code == 200
        dashboard = await signed_in(client, owner)
        url = f"/app/t/{tenant}/settings/audit"
        first = await dashboard.get(url)
        assert first.text.count("<code>tenant.updated</code>") == 25
        assert "Older entries" in first.text
        older = re.search(r'href="([^"]*cursor=[^"]+)"', first.text).group(1)
        second = await dashboard.get(older.replace("&amp;", "&"))
        assert second.text.count("<code>tenant.updated</code>") == 2
        assert "<code>tenant.created</code>" in second.text
        assert "Shop 0" in second.text
        filtered = await dashboard.get(
            url, params={"action": "tenant.created"}, headers={"HX-Request": "true"}
        )
        assert "<html" not in filtered.text
        assert filtered.text.count("<code>tenant.created</code>") == 1
        assert "tenant.updated" not in filtered.text
        assert "Test Person" in filtered.text  # the actor by name, not by id

    async def test_a_bad_date_is_explained(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        dashboard = await signed_in(client, owner)
        response = await dashboard.get(
            f"/app/t/{tenant}/settings/audit", params={"since": "yesterday"}
        )
        assert response.status_code == 422
        assert 'id="f-since-error"' in response.text


class TestOverview:
    async def test_the_overview_shows_real_counts_only(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner, name="Counting Shop")
        await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, owner)
        page = await dashboard.get(f"/app/t/{tenant}")
        assert "Counting Shop" in page.text
        assert re.search(r'kpi-value">2</span> <span class="kpi-label">members', page.text)
        assert re.search(r'kpi-value">0</span> <span class="kpi-label">active keys', page.text)
        assert '<svg class="chart chart-bar"' in page.text

    async def test_a_viewer_overview_has_no_settings_panels(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        dashboard = await signed_in(client, viewer)
        page = await dashboard.get(f"/app/t/{tenant}")
        assert "active locations" in page.text
        assert "See locations" in page.text
        for panel in ("panel-members", "panel-api_keys", "panel-activity"):
            assert panel not in page.text


async def test_static_files_are_cached_and_htmx_is_served(client) -> None:
    page = await client.get("/app/login")
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert any("/app/static/vendor/htmx.min.js?v=" in src for src in scripts)
    for src in scripts:
        response = await client.get(src)
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"]
    htmx = await client.get(next(s for s in scripts if "htmx" in s))
    assert "htmx" in htmx.text[:200]
    # The copy `cd sdk && npm run build` takes from npm, at the version sdk/ pins; nothing
    # else of the htmx distribution is served.
    pinned = json.loads(SDK_PACKAGE.read_text())["devDependencies"]["htmx.org"]
    assert f'version:"{pinned}"' in htmx.text
    assert len(htmx.content) < 60_000
    for other in ("htmx.js", "htmx.esm.js", "ext/sse.js", "htmx.min.js.gz"):
        assert (await client.get(f"/app/static/vendor/{other}")).status_code == 404
