"""API keys: shown once, hashed at rest, tenant-bound, origin-checked, revoked at once."""

from __future__ import annotations

import uuid

import psycopg

from mercato.kernel.db import get_database
from mercato.modules.identity import ApiKeyCreate, ensure_system_key
from tests.factories import create_api_key, create_tenant, signup_and_login, stale_headers


async def test_key_is_shown_once_and_never_listed(client, owner_dsn) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await create_api_key(client, owner, tenant)
    assert created["key"].startswith("mk_live_")
    assert len(created["key"]) == len("mk_live_") + 43
    assert created["prefix"] == created["key"][:12]
    listed = await client.get(f"/api/v1/tenants/{tenant}/api-keys", headers=owner.headers)
    assert created["key"] not in listed.text
    assert "key" not in listed.json()["data"][0]
    with psycopg.connect(owner_dsn) as conn:
        stored = conn.execute(
            "SELECT key_hash FROM api_key WHERE id = %s", (created["id"],)
        ).fetchone()
        audit = conn.execute(
            "SELECT changes::text FROM audit_log "
            "WHERE tenant_id = %s AND action = 'api_key.created'",
            (tenant,),
        ).fetchone()
    assert created["key"].encode() not in bytes(stored[0])
    assert created["key"] not in audit[0]


async def test_creating_a_key_needs_step_up(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    response = await client.post(
        f"/api/v1/tenants/{tenant}/api-keys",
        json={"name": "k", "kind": "secret", "permission": "read"},
        headers=await stale_headers(owner),
    )
    assert response.status_code == 401
    assert response.json()["type"].endswith("step-up-required")


async def test_a_key_reaches_its_tenant_and_no_other(client) -> None:
    owner = await signup_and_login(client)
    tenant, other = await create_tenant(client, owner), await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant, permission="read"))["key"]
    assert (
        await client.get(f"/api/v1/tenants/{tenant}", headers={"X-API-Key": key})
    ).status_code == 200
    bearer = await client.get(
        f"/api/v1/tenants/{tenant}", headers={"Authorization": f"Bearer {key}"}
    )
    assert bearer.status_code == 200
    assert (
        await client.get(f"/api/v1/tenants/{other}", headers={"X-API-Key": key})
    ).status_code == 404


async def test_read_keys_cannot_write_and_keys_cannot_manage_keys(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    key = (await create_api_key(client, owner, tenant, permission="read"))["key"]
    write = await client.patch(
        f"/api/v1/tenants/{tenant}", json={"name": "x"}, headers={"X-API-Key": key}
    )
    assert write.status_code == 403
    keys = await client.get(f"/api/v1/tenants/{tenant}/api-keys", headers={"X-API-Key": key})
    assert keys.status_code == 403


async def test_a_revoked_key_is_refused_on_the_next_request(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    created = await create_api_key(client, owner, tenant)
    headers = {"X-API-Key": created["key"]}
    assert (
        await client.get(f"/api/v1/tenants/{tenant}", headers=headers)
    ).status_code == 200  # cached now
    revoke = await client.delete(
        f"/api/v1/tenants/{tenant}/api-keys/{created['id']}", headers=owner.headers
    )
    assert revoke.status_code == 204
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=headers)).status_code == 401


async def test_publishable_keys_need_origins_and_are_checked_against_origin(client) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    missing = await client.post(
        f"/api/v1/tenants/{tenant}/api-keys",
        json={"name": "web", "kind": "publishable", "permission": "read_write"},
        headers=owner.headers,
    )
    assert missing.status_code == 422
    key = (
        await create_api_key(
            client, owner, tenant, kind="publishable", allowed_origins=["https://shop.example"]
        )
    )["key"]
    # Publishable keys cannot read tenant settings at all (permission), wherever they come from.
    ok_origin = await client.get(
        f"/api/v1/tenants/{tenant}", headers={"X-API-Key": key, "Origin": "https://shop.example"}
    )
    assert ok_origin.status_code == 403
    assert ok_origin.json()["type"].endswith("/permission-denied")
    bad_origin = await client.get(
        f"/api/v1/tenants/{tenant}", headers={"X-API-Key": key, "Origin": "https://evil.example"}
    )
    assert bad_origin.status_code == 403
    assert bad_origin.json()["type"].endswith("/origin-not-allowed")
    no_origin = await client.get(f"/api/v1/tenants/{tenant}", headers={"X-API-Key": key})
    assert no_origin.json()["type"].endswith("/origin-not-allowed")


async def test_unknown_keys_are_401(client) -> None:
    response = await client.get(
        "/api/v1/tenants/00000000-0000-0000-0000-000000000000",
        headers={"X-API-Key": "mk_live_" + "0" * 43},
    )
    assert response.status_code == 401


async def test_a_system_key_is_kept_while_live_and_replaced_once_revoked(client, owner_dsn) -> None:
    """What the demo's traffic stream relies on (`ensure_system_key`)."""
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    other = await create_tenant(client, owner)
    request = ApiKeyCreate(name="Demo traffic", kind="secret", permission="read_write")

    async def ensure(tenant_id: str, known: str | None) -> str:
        async with get_database().tenant_session(uuid.UUID(tenant_id)) as session:
            return await ensure_system_key(
                session, uuid.UUID(tenant_id), request, actor="system:demo", known=known
            )

    first = await ensure(tenant, None)
    assert await ensure(tenant, first) == first
    works = await client.get(f"/api/v1/tenants/{tenant}", headers={"X-API-Key": first})
    assert works.status_code == 200
    assert await ensure(other, first) != first  # another tenant's key is never reused
    assert await ensure(tenant, "mk_live_not-a-key") != first

    listed = await client.get(f"/api/v1/tenants/{tenant}/api-keys", headers=owner.headers)
    prefixes = {key["prefix"]: key["id"] for key in listed.json()["data"]}
    revoked = await client.delete(
        f"/api/v1/tenants/{tenant}/api-keys/{prefixes[first[:12]]}", headers=owner.headers
    )
    assert revoked.status_code == 204
    replaced = await ensure(tenant, first)
    assert replaced != first
    with psycopg.connect(owner_dsn) as conn:
        made = conn.execute(
            "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND actor = 'system:demo' "
            "AND action = 'api_key.created'",
            (tenant,),
        ).fetchone()
    assert made == (3,)
