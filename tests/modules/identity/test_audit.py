"""The audit log: one entry per audited action, readable by admins, never holding a secret."""

from __future__ import annotations

from tests.factories import PASSWORD, add_member, create_api_key, create_tenant, signup_and_login


async def test_audited_actions_leave_entries_without_secrets(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    member = await add_member(client, owner, tenant, "viewer")
    await client.patch(
        f"/api/v1/tenants/{tenant}/members/{member.id}",
        json={"role": "manager"},
        headers=owner.headers,
    )
    key = await create_api_key(client, owner, tenant)
    await client.delete(f"/api/v1/tenants/{tenant}/api-keys/{key['id']}", headers=owner.headers)
    await client.post(f"/api/v1/tenants/{tenant}/suspend", headers=owner.headers)
    await client.post(f"/api/v1/tenants/{tenant}/activate", headers=owner.headers)

    response = await client.get(f"/api/v1/tenants/{tenant}/audit-logs", headers=owner.headers)
    assert response.status_code == 200
    entries = response.json()["data"]
    assert [e["action"] for e in reversed(entries)] == [
        "tenant.created",
        "member.invited",
        "member.joined",
        "member.role_changed",
        "api_key.created",
        "api_key.revoked",
        "tenant.suspended",
        "tenant.activated",
    ]
    role_change = next(e for e in entries if e["action"] == "member.role_changed")
    assert role_change["changes"] == {"role": {"from": "viewer", "to": "manager"}}
    assert role_change["actor"] == f"user:{owner.id}"
    assert role_change["target"] == f"user:{member.id}"
    assert role_change["request_id"]
    for secret in (key["key"], PASSWORD, owner.access_token, owner.refresh_token):
        assert secret not in response.text


async def test_audit_log_is_paginated_and_filterable(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    for i in range(4):
        await client.patch(
            f"/api/v1/tenants/{tenant}", json={"name": f"N{i}"}, headers=owner.headers
        )
    url = f"/api/v1/tenants/{tenant}/audit-logs"
    first = (await client.get(url, params={"limit": 3}, headers=owner.headers)).json()
    assert len(first["data"]) == 3
    second = (
        await client.get(
            url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=owner.headers
        )
    ).json()
    assert len(second["data"]) == 2
    assert second["next_cursor"] is None
    assert {e["id"] for e in first["data"]}.isdisjoint({e["id"] for e in second["data"]})
    only = (
        await client.get(url, params={"action": "tenant.updated"}, headers=owner.headers)
    ).json()
    assert len(only["data"]) == 4
    bad = await client.get(url, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=owner.headers)
    assert bad.status_code == 400


async def test_viewers_cannot_read_the_audit_log(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    viewer = await add_member(client, owner, tenant, "viewer")
    response = await client.get(f"/api/v1/tenants/{tenant}/audit-logs", headers=viewer.headers)
    assert response.status_code == 403
