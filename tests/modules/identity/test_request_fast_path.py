"""The per-request fast path keeps every refusal: credentials remembered in a process for
a few seconds still answer to revocation, logout, deleted accounts and memberships."""

from __future__ import annotations

import psycopg

from mercato.kernel.redis import get_redis
from mercato.modules.identity import apikeys
from tests.factories import add_member, create_api_key, create_tenant, signup_and_login


async def test_a_key_another_process_remembers_is_refused_once_revoked(client) -> None:
    """Another process verified the key just before the revocation committed: the marker
    written after commit makes its next request fail, though it never saw the revocation."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await create_api_key(client, owner, tenant)
    headers = {"X-API-Key": created["key"]}
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=headers)).status_code == 200
    key_hash = apikeys.hash_key(created["key"])
    remembered = apikeys._recent(key_hash)
    assert remembered is not None
    assert remembered.id == created["id"]

    revoke = await client.delete(
        f"/api/v1/tenants/{tenant}/api-keys/{created['id']}", headers=owner.headers
    )
    assert revoke.status_code == 204
    assert apikeys._recent(key_hash) is None  # this process forgot it at once
    apikeys._remember_locally(key_hash, remembered)  # as the other process still has it

    refused = await client.get(f"/api/v1/tenants/{tenant}", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert apikeys._recent(key_hash) is None


async def test_a_remembered_key_is_served_without_the_shared_cache_or_database(client) -> None:
    """The memory is really used (else the test above would prove nothing): with the shared
    cache entry gone and no revocation marker, the remembered key still authenticates."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await create_api_key(client, owner, tenant, permission="read")
    headers = {"X-API-Key": created["key"]}
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=headers)).status_code == 200
    key_hash = apikeys.hash_key(created["key"])
    await get_redis().delete(apikeys._cache_key(key_hash))
    response = await client.get(f"/api/v1/tenants/{tenant}", headers=headers)
    assert response.status_code == 200
    assert await get_redis().get(apikeys._cache_key(key_hash)) is None  # not looked up again


async def test_a_remembered_key_still_only_opens_its_own_tenant(client) -> None:
    owner = await signup_and_login(client)
    tenant, other = await create_tenant(client, owner), await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant))["key"]
    headers = {"X-API-Key": key}
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/tenants/{other}", headers=headers)).status_code == 404


async def test_a_logged_out_token_is_refused_on_a_tenant_route_though_verified_before(
    client,
) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=owner.headers)).status_code == 204
    refused = await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)
    assert refused.status_code == 401


async def test_a_deleted_account_is_refused_on_a_tenant_route(client, owner_dsn) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    member = await add_member(client, owner, tenant, "viewer")
    headers = member.headers
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=headers)).status_code == 200
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM membership WHERE user_id = %s", (member.id,))
    # No membership any more: the tenant is hidden.
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=headers)).status_code == 404
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM refresh_token WHERE user_id = %s", (member.id,))
        conn.execute("DELETE FROM auth_event WHERE user_id = %s", (member.id,))
        conn.execute("DELETE FROM staff_user WHERE id = %s", (member.id,))
    refused = await client.get(f"/api/v1/tenants/{tenant}", headers=headers)
    assert refused.status_code == 401
    assert "no longer exists" in refused.json()["detail"]


async def test_a_member_is_seen_with_the_role_of_their_membership(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    viewer = await add_member(client, owner, tenant, "viewer")
    assert (
        await client.get(f"/api/v1/tenants/{tenant}", headers=viewer.headers)
    ).status_code == 200
    write = await client.patch(
        f"/api/v1/tenants/{tenant}", json={"name": "renamed"}, headers=viewer.headers
    )
    assert write.status_code == 403
