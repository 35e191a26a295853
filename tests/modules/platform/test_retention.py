"""Retention: history past its window is deleted; what is recent or still pending stays."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from mercato.kernel.blobs import shared_blobs
from mercato.kernel.db import get_database
from mercato.kernel.jobs import defer, task
from mercato.modules.platform import enforce_retention
from mercato.settings import get_settings
from mercato.worker import open_queue
from tests.factories import create_tenant, signup_and_login
from tests.jobs import run_queued_jobs

QUEUE = "retention-tests"


@task("tests.retention_probe", queue=QUEUE)
async def retention_probe(*, marker: str) -> None:
    return None


async def _bytes(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _exists(conn: psycopg.Connection, table: str, key: str, value: object) -> bool:
    query = f"SELECT count(*) FROM {table} WHERE {key} = %s"
    return conn.execute(query, (value,)).fetchone()[0] == 1


async def test_old_history_is_deleted_and_recent_or_pending_history_kept(client, owner_dsn) -> None:
    owner = await signup_and_login(client)
    tenant = await create_tenant(client, owner)
    async with get_database().session() as session:
        old_job = await defer(session, "tests.retention_probe", marker="old")
        recent_job = await defer(session, "tests.retention_probe", marker="recent")
    await run_queued_jobs(QUEUE)

    ids = {name: uuid.uuid4() for name in ("old_sent", "old_queued", "recent_sent")}
    deliveries = {name: uuid.uuid4() for name in ("old", "recent")}
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE procrastinate_events SET at = now() - interval '91 days' WHERE job_id = %s",
            (old_job,),
        )
        old_failure, recent_failure = (
            conn.execute(
                "INSERT INTO job_failure (job_id, task_name, attempt, reason, failed_at) "
                "VALUES (NULL, 'tests.x', 1, 'boom', now() - %s::interval) RETURNING id",
                (age,),
            ).fetchone()[0]
            for age in ("91 days", "89 days")
        )
        for name, status, age in (
            ("old_sent", "sent", "366 days"),
            ("old_queued", "queued", "366 days"),
            ("recent_sent", "sent", "300 days"),
        ):
            conn.execute(
                "INSERT INTO mail_outbox (id, recipient, subject, body_text, category, "
                "attachments, status, attempts, created_at) VALUES "
                "(%s, 'a@b.example', 's', 'b', 'test', '[]', %s, 1, now() - %s::interval)",
                (ids[name], status, age),
            )
        for name, age in (("old", "366 days"), ("recent", "10 days")):
            conn.execute(
                "INSERT INTO notification_delivery (tenant_id, id, event, event_key, channel, "
                "recipient, locale, subject, body, status, attempts, created_at) VALUES "
                "(%s, %s, 'order.paid', %s, 'sms', '+4670000001', 'en', 's', 'b', 'sent', 1, "
                "now() - %s::interval)",
                (tenant, deliveries[name], name, age),
            )

    tenant_id = uuid.UUID(tenant)
    await shared_blobs().put(tenant_id, "kept", _bytes(b"k"))
    await shared_blobs().put(
        tenant_id, "expired", _bytes(b"e"), expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )

    async with open_queue(get_settings()):
        report = await enforce_retention(get_settings())
    assert report.blobs >= 1
    assert [blob.key for blob in await shared_blobs().entries(tenant_id)] == ["kept"]
    assert report.job_failures >= 1
    assert report.mails >= 1
    assert report.notification_deliveries >= 1

    with psycopg.connect(owner_dsn) as conn:
        assert not _exists(conn, "procrastinate_jobs", "id", old_job)
        assert _exists(conn, "procrastinate_jobs", "id", recent_job)
        assert not _exists(conn, "job_failure", "id", old_failure)
        assert _exists(conn, "job_failure", "id", recent_failure)
        assert not _exists(conn, "mail_outbox", "id", ids["old_sent"])
        assert _exists(conn, "mail_outbox", "id", ids["old_queued"])  # never delivered yet
        assert _exists(conn, "mail_outbox", "id", ids["recent_sent"])
        assert not _exists(conn, "notification_delivery", "id", deliveries["old"])
        assert _exists(conn, "notification_delivery", "id", deliveries["recent"])


@pytest.mark.parametrize(
    "call",
    [
        "SELECT * FROM platform_enforce_retention(now(), now() - interval '400 days')",
        "SELECT * FROM platform_enforce_retention(now() - interval '100 days', now())",
        "SELECT platform_expire_events(gen_random_uuid(), now())",
    ],
)
def test_retention_windows_have_floors_the_database_enforces(owner_dsn, call) -> None:
    with psycopg.connect(owner_dsn) as conn:
        conn.execute(f'SET ROLE "{get_settings().app_role}"')
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute(call)
