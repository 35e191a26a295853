"""Tenants, members and roles over HTTP."""

from __future__ import annotations

import asyncio

import pytest

from tests.factories import add_member, create_tenant, signup_and_login, stale_headers


class TestTenants:
    async def test_create_makes_the_caller_owner(self, client) -> None:
        owner = await signup_and_login(client)
        response = await client.post(
            "/api/v1/tenants", json={"name": "Oak & Pine"}, headers=owner.headers
        )
        assert response.status_code == 201
        body = response.json()
        assert body["status"] == "active"
        assert body["slug"] == "oak-pine"
        mine = (await client.get("/api/v1/tenants", headers=owner.headers)).json()["data"]
        assert [(t["id"], t["role"]) for t in mine] == [(body["id"], "owner")]

    async def test_slugs_are_unique(self, client) -> None:
        owner = await signup_and_login(client)
        first = await client.post(
            "/api/v1/tenants", json={"name": "Twin Shop"}, headers=owner.headers
        )
        second = await client.post(
            "/api/v1/tenants", json={"name": "Twin Shop"}, headers=owner.headers
        )
        assert first.json()["slug"] != second.json()["slug"]
        taken = await client.post(
            "/api/v1/tenants",
            json={"name": "X", "slug": first.json()["slug"]},
            headers=owner.headers,
        )
        assert taken.status_code == 409

    async def test_update_validates_settings(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        bad = await client.patch(
            f"/api/v1/tenants/{tenant}",
            json={"settings": {"timezone": "Mars/Olympus"}},
            headers=owner.headers,
        )
        assert bad.status_code == 422
        good = await client.patch(
            f"/api/v1/tenants/{tenant}",
            json={"name": "Renamed", "settings": {"timezone": "Europe/Berlin", "currency": "EUR"}},
            headers=owner.headers,
        )
        assert good.status_code == 200
        assert good.json()["settings"] == {"timezone": "Europe/Berlin", "currency": "EUR"}

    @pytest.mark.parametrize(
        ("given", "field"),
        [
            ({"locale": "xx-YY"}, "locale"),
            ({"locale": "english"}, "locale"),
            ({"currency": "EUX"}, "currency"),
            ({"currency": "euro"}, "currency"),
        ],
    )
    async def test_an_unknown_locale_or_currency_is_422(self, client, given, field) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        bad = await client.patch(
            f"/api/v1/tenants/{tenant}", json={"settings": given}, headers=owner.headers
        )
        assert bad.status_code == 422, bad.text
        assert bad.headers["content-type"].startswith("application/problem+json")
        assert field in bad.text
        read = await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)
        assert field not in read.json()["settings"]

    async def test_locale_and_currency_are_stored_in_canonical_form(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        good = await client.patch(
            f"/api/v1/tenants/{tenant}",
            json={"settings": {"locale": "de_de", "currency": "chf"}},
            headers=owner.headers,
        )
        assert good.status_code == 200, good.text
        assert good.json()["settings"] == {"locale": "de-DE", "currency": "CHF"}

    async def test_other_people_get_404_for_a_tenant(self, client) -> None:
        owner = await signup_and_login(client)
        stranger = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        response = await client.get(f"/api/v1/tenants/{tenant}", headers=stranger.headers)
        assert response.status_code == 404

    async def test_suspended_tenant_answers_403_except_to_owners(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        admin = await add_member(client, owner, tenant, "admin")
        assert (
            await client.post(f"/api/v1/tenants/{tenant}/suspend", headers=owner.headers)
        ).status_code == 200
        blocked = await client.get(f"/api/v1/tenants/{tenant}", headers=admin.headers)
        assert blocked.status_code == 403
        assert blocked.json()["type"].endswith("/tenant-suspended")
        assert (
            await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)
        ).status_code == 200
        assert (
            await client.post(f"/api/v1/tenants/{tenant}/activate", headers=owner.headers)
        ).status_code == 200
        assert (
            await client.get(f"/api/v1/tenants/{tenant}", headers=admin.headers)
        ).status_code == 200

    async def test_delete_needs_step_up_and_then_hides_the_tenant(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        stale = await client.delete(f"/api/v1/tenants/{tenant}", headers=await stale_headers(owner))
        assert stale.status_code == 401
        assert stale.json()["type"].endswith("step-up-required")
        assert (
            await client.delete(f"/api/v1/tenants/{tenant}", headers=owner.headers)
        ).status_code == 204
        assert (
            await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)
        ).status_code == 404
        assert (await client.get("/api/v1/tenants", headers=owner.headers)).json()["data"] == []


class TestMembers:
    async def test_an_invitation_accepted_from_the_mailbox_makes_a_member(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        viewer = await add_member(client, owner, tenant, "viewer")
        session = (await client.get("/api/v1/auth/session", headers=viewer.headers)).json()
        assert session["memberships"][0]["tenant_id"] == tenant
        assert session["memberships"][0]["role"] == "viewer"
        assert session["user"]["email_verified"] is True  # the token proved the mailbox
        again = await client.post(
            f"/api/v1/tenants/{tenant}/members",
            json={"email": viewer.email, "role": "viewer"},
            headers=owner.headers,
        )
        assert again.status_code == 409

    async def test_members_list_leaves_out_the_callers_other_tenants(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        other = await create_tenant(client, owner)
        await add_member(client, owner, other, "manager")
        data = (
            await client.get(f"/api/v1/tenants/{tenant}/members", headers=owner.headers)
        ).json()["data"]
        assert [(m["email"], m["role"]) for m in data] == [(owner.email, "owner")]

    async def test_role_change_needs_step_up(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        member = await add_member(client, owner, tenant, "viewer")
        url = f"/api/v1/tenants/{tenant}/members/{member.id}"
        stale = await client.patch(
            url, json={"role": "manager"}, headers=await stale_headers(owner)
        )
        assert stale.status_code == 401
        fresh = await client.patch(url, json={"role": "manager"}, headers=owner.headers)
        assert fresh.status_code == 200
        assert fresh.json()["role"] == "manager"

    async def test_the_last_owner_can_be_neither_removed_nor_demoted(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        url = f"/api/v1/tenants/{tenant}/members/{owner.id}"
        assert (await client.delete(url, headers=owner.headers)).status_code == 409
        demote = await client.patch(url, json={"role": "admin"}, headers=owner.headers)
        assert demote.status_code == 409
        assert demote.json()["type"].endswith("/last-owner")
        second = await add_member(client, owner, tenant, "owner")
        assert (await client.delete(url, headers=second.headers)).status_code == 204

    async def test_owning_other_tenants_does_not_make_the_last_owner_removable(
        self, client
    ) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        await create_tenant(client, owner)  # the owner's memberships elsewhere must not count
        url = f"/api/v1/tenants/{tenant}/members/{owner.id}"
        demote = await client.patch(url, json={"role": "viewer"}, headers=owner.headers)
        assert demote.status_code == 409, demote.text
        assert (await client.delete(url, headers=owner.headers)).status_code == 409

    async def test_two_owners_demoting_each_other_at_once_leave_one_owner(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        second = await add_member(client, owner, tenant, "owner")
        members = f"/api/v1/tenants/{tenant}/members"
        answers = await asyncio.gather(
            client.patch(f"{members}/{second.id}", json={"role": "viewer"}, headers=owner.headers),
            client.patch(f"{members}/{owner.id}", json={"role": "viewer"}, headers=second.headers),
        )
        assert sorted(a.status_code for a in answers) == [200, 409]
        survivor = owner if answers[0].status_code == 200 else second
        roles = (await client.get(members, headers=survivor.headers)).json()["data"]
        assert [m["role"] for m in roles].count("owner") == 1

    @pytest.mark.parametrize("role", ["owner", "admin"])
    async def test_admins_cannot_grant_owner_or_touch_owners(self, client, role) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        admin = await add_member(client, owner, tenant, "admin")
        target = (
            owner.id if role == "owner" else (await add_member(client, owner, tenant, "viewer")).id
        )
        response = await client.patch(
            f"/api/v1/tenants/{tenant}/members/{target}",
            json={"role": "owner"},
            headers=admin.headers,
        )
        assert response.status_code == 403

    async def test_members_list_shows_active_and_invited(self, client) -> None:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        await add_member(client, owner, tenant, "sales_rep")
        await client.post(
            f"/api/v1/tenants/{tenant}/members",
            json={"email": "later@shop.example", "role": "viewer"},
            headers=owner.headers,
        )
        data = (
            await client.get(f"/api/v1/tenants/{tenant}/members", headers=owner.headers)
        ).json()["data"]
        assert sorted((m["role"], m["status"]) for m in data) == [
            ("owner", "active"),
            ("sales_rep", "active"),
            ("viewer", "invited"),
        ]
