"""Hard delete after the 30-day window removes every row of the tenant, in every table."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from mercato.kernel.db import get_database
from mercato.kernel.jobs import defer
from mercato.kernel.rls import tenant_rls_statements
from tests.factories import add_member, create_api_key, create_tenant, signup_and_login
from tests.jobs import run_queued_jobs
from tests.modules.platform.conftest import tenant_row_counts

PLATFORM = "/api/v1/platform"


@pytest.fixture
def later_module_table(owner_dsn: str):
    """A tenant table created after the purge code was written, as a later module would."""
    table = f"rls_probe_purge_{secrets.token_hex(4)}"
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} (tenant_id uuid NOT NULL, id uuid NOT NULL, "
            f"PRIMARY KEY (tenant_id, id))"
        )
        for statement in tenant_rls_statements(table):
            conn.execute(statement)
    yield table
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {table}")


async def _populated_tenant(client, owner_dsn: str, table: str) -> tuple[object, str]:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    base = f"/api/v1/tenants/{tenant}"
    await add_member(client, owner, tenant, "manager")
    await create_api_key(client, owner, tenant)
    for rating in (5, 2):
        await client.post(
            f"{base}/feedback", json={"rating": rating, "category": "x"}, headers=owner.headers
        )
    await client.post(f"{base}/pages", json={"slug": "a", "title": "A"}, headers=owner.headers)
    await client.patch(f"{base}/pages/a", json={"body": "b"}, headers=owner.headers)
    await client.put(
        f"{base}/notifications/preferences",
        json={"rules": [{"event": "order.paid", "channel": "sms", "recipients": ["+4670000001"]}]},
        headers=owner.headers,
    )
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO notification_delivery (tenant_id, id, event, event_key, channel, "
            "recipient, locale, subject, body, status, attempts) VALUES "
            "(%s, gen_random_uuid(), 'order.paid', 'o-1', 'sms', '+4670000001', 'en', 's', "
            "'b', 'sent', 1)",
            (tenant,),
        )
        for _ in range(3):
            conn.execute(f"INSERT INTO {table} VALUES (%s, gen_random_uuid())", (tenant,))
    return owner, tenant


def _backdate_deletion(owner_dsn: str, tenant: str, days: int) -> None:
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE tenant SET deleted_at = now() - make_interval(days => %s) WHERE id = %s",
            (days, tenant),
        )


async def _run_maintenance() -> None:
    await run_queued_jobs("maintenance")


async def test_purge_removes_every_row_of_the_tenant_and_no_other(
    client, operator, owner_dsn, later_module_table
) -> None:
    owner, doomed = await _populated_tenant(client, owner_dsn, later_module_table)
    _, kept = await _populated_tenant(client, owner_dsn, later_module_table)
    kept_before = tenant_row_counts(owner_dsn, kept)

    assert (
        await client.delete(f"/api/v1/tenants/{doomed}", headers=owner.headers)
    ).status_code == 204
    _backdate_deletion(owner_dsn, doomed, days=29)
    early = await client.post(f"{PLATFORM}/tenants/{doomed}/purge", headers=operator.headers)
    assert early.status_code == 409
    _backdate_deletion(owner_dsn, doomed, days=31)
    accepted = await client.post(f"{PLATFORM}/tenants/{doomed}/purge", headers=operator.headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["job_id"] > 0

    before = tenant_row_counts(owner_dsn, doomed)
    assert later_module_table in before
    populated = {table for table, rows in before.items() if rows}
    assert populated >= {
        "membership",
        "api_key",
        "audit_log",
        "feedback",
        "content_page",
        "content_page_revision",
        "notification_preference",
        "notification_delivery",
        later_module_table,
    }
    await _run_maintenance()

    after = tenant_row_counts(owner_dsn, doomed)
    assert after == dict.fromkeys(before, 0)
    assert tenant_row_counts(owner_dsn, kept) == kept_before
    with psycopg.connect(owner_dsn) as conn:
        assert (
            conn.execute("SELECT count(*) FROM tenant WHERE id = %s", (doomed,)).fetchone()[0] == 0
        )
        recorded = conn.execute(
            "SELECT rows_deleted FROM purged_tenant WHERE id = %s", (doomed,)
        ).fetchone()[0]
    assert recorded == before
    gone = await client.get(f"{PLATFORM}/tenants/{doomed}", headers=operator.headers)
    assert gone.status_code == 404


async def test_the_daily_job_purges_only_tenants_past_their_window(
    client, owner_dsn, later_module_table
) -> None:
    owner_a, expired = await _populated_tenant(client, owner_dsn, later_module_table)
    owner_b, recent = await _populated_tenant(client, owner_dsn, later_module_table)
    for owner, tenant in ((owner_a, expired), (owner_b, recent)):
        await client.delete(f"/api/v1/tenants/{tenant}", headers=owner.headers)
    _backdate_deletion(owner_dsn, expired, days=45)
    _backdate_deletion(owner_dsn, recent, days=3)
    recent_before = tenant_row_counts(owner_dsn, recent)
    async with get_database().session() as session:
        await defer(session, "platform.purge_expired_tenants", timestamp=0)
    await _run_maintenance()
    assert set(tenant_row_counts(owner_dsn, expired).values()) == {0}
    assert tenant_row_counts(owner_dsn, recent) == recent_before
    with psycopg.connect(owner_dsn) as conn:
        statuses = dict(
            conn.execute(
                "SELECT id::text, status FROM tenant WHERE id = ANY(%s)", ([expired, recent],)
            ).fetchall()
        )
    assert statuses == {recent: "deleted"}  # still restorable for 27 more days
