"""The operator API: tenants with usage, suspend, reactivate, restore, pilot KPIs."""

from __future__ import annotations

import psycopg
import pytest

from tests.factories import add_member, create_tenant, signup_and_login

PLATFORM = "/api/v1/platform"


async def _feedback(client, staff, tenant: str, *ratings: int) -> None:
    for rating in ratings:
        response = await client.post(
            f"/api/v1/tenants/{tenant}/feedback",
            json={"rating": rating, "category": "pilot"},
            headers=staff.headers,
        )
        assert response.status_code == 201


async def test_tenants_are_listed_with_their_usage(client, operator) -> None:
    owner = await signup_and_login(client)
    older = await create_tenant(client, owner)
    tenant = await create_tenant(client, owner, name="Usage Shop")
    await add_member(client, owner, tenant, "manager")
    await _feedback(client, owner, tenant, 5, 3)
    one = await client.get(f"{PLATFORM}/tenants/{tenant}", headers=operator.headers)
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["name"] == "Usage Shop"
    assert body["status"] == "active"
    assert body["purge_after"] is None
    assert body["usage"]["staff"] == 2
    assert body["usage"]["products"] == 0  # no catalog table yet: 0, not an error
    assert body["usage"]["events_month"] == 0
    assert body["usage"]["storage_bytes"] > 0

    newest = await client.get(f"{PLATFORM}/tenants", params={"limit": 1}, headers=operator.headers)
    assert [t["id"] for t in newest.json()["data"]] == [tenant]
    following = await client.get(
        f"{PLATFORM}/tenants",
        params={"limit": 1, "cursor": newest.json()["next_cursor"]},
        headers=operator.headers,
    )
    assert [t["id"] for t in following.json()["data"]] == [older]


async def test_suspending_locks_out_all_but_owners_until_reactivated(client, operator) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    manager = await add_member(client, owner, tenant, "manager")
    suspended = await client.post(f"{PLATFORM}/tenants/{tenant}/suspend", headers=operator.headers)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    locked = await client.get(f"/api/v1/tenants/{tenant}", headers=manager.headers)
    assert locked.status_code == 403
    assert locked.json()["type"].endswith("/tenant-suspended")
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)).status_code == 200
    again = await client.post(f"{PLATFORM}/tenants/{tenant}/suspend", headers=operator.headers)
    assert again.status_code == 409

    reactivated = await client.post(
        f"{PLATFORM}/tenants/{tenant}/reactivate", headers=operator.headers
    )
    assert reactivated.json()["status"] == "active"
    assert (
        await client.get(f"/api/v1/tenants/{tenant}", headers=manager.headers)
    ).status_code == 200
    audit = await client.get(f"/api/v1/tenants/{tenant}/audit-logs", headers=owner.headers)
    actions = [(e["action"], e["actor"]) for e in audit.json()["data"]]
    assert ("platform.tenant_suspended", f"user:{operator.id}") in actions
    assert ("platform.tenant_reactivated", f"user:{operator.id}") in actions


async def test_a_deleted_tenant_can_be_restored_within_its_window(client, operator) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    deleted = await client.delete(f"/api/v1/tenants/{tenant}", headers=owner.headers)
    assert deleted.status_code == 204
    seen = await client.get(f"{PLATFORM}/tenants/{tenant}", headers=operator.headers)
    assert seen.json()["status"] == "deleted"
    assert seen.json()["purge_after"] is not None
    early = await client.post(f"{PLATFORM}/tenants/{tenant}/purge", headers=operator.headers)
    assert early.status_code == 409
    assert early.json()["type"].endswith("/purge-window-open")
    restored = await client.post(
        f"{PLATFORM}/tenants/{tenant}/reactivate", headers=operator.headers
    )
    assert restored.json()["status"] == "active"
    assert (await client.get(f"/api/v1/tenants/{tenant}", headers=owner.headers)).status_code == 200


def _missing(owner_dsn: str, table: str) -> bool:
    with psycopg.connect(owner_dsn) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NULL", (table,)).fetchone()[0]


async def test_pilot_kpis_move_with_what_tenants_do(client, operator, owner_dsn) -> None:
    # The same window both times: other tests leave feedback older than a week behind.
    before = (
        await client.get(f"{PLATFORM}/pilot-kpis", params={"days": 7}, headers=operator.headers)
    ).json()
    owner = await signup_and_login(client)  # logging in makes the owner weekly-active
    tenant = await create_tenant(client, owner)
    await _feedback(client, owner, tenant, 5, 4, 1)
    after = (
        await client.get(f"{PLATFORM}/pilot-kpis", params={"days": 7}, headers=operator.headers)
    ).json()
    assert after["window_days"] == 7
    assert after["tenants"]["total"] == before["tenants"]["total"] + 1
    assert after["active_tenants"] == before["active_tenants"] + 1
    assert after["weekly_active_staff"] == before["weekly_active_staff"] + 1
    assert after["feedback_count"] == before["feedback_count"] + 3
    assert after["feedback_satisfied"] == before["feedback_satisfied"] + 2
    assert after["satisfaction_rate"] == pytest.approx(
        after["feedback_satisfied"] / after["feedback_count"], abs=1e-4
    )
    # Metrics of modules not installed in this database are null rather than invented.
    if _missing(owner_dsn, "feed_push_jobs"):
        assert after["feed_push_success_rate"] is None
    if _missing(owner_dsn, "category"):
        assert after["category_mapping_coverage"] is None
    if _missing(owner_dsn, "event"):
        assert after["events_ingested"] is None
