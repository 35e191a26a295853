"""Jobs: transactional enqueue, timeouts recorded as failures, domain event delivery."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import psycopg
import pytest
from procrastinate.exceptions import TaskNotFound
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from mercato.kernel.context import request_id_var
from mercato.kernel.db import after_commit, get_database
from mercato.kernel.events import emit, subscribe
from mercato.kernel.jobs import (
    AlreadyQueued,
    active_job,
    defer,
    execute_deferring,
    job_row,
    task,
)
from mercato.settings import get_settings
from mercato.worker import open_queue
from tests.jobs import run_queued_jobs
from tests.metrics import scraped

QUEUE = "kernel-tests"
ran: list[str] = []


@task("tests.record", queue=QUEUE)
async def record(*, marker: str) -> None:
    ran.append(marker)


@task("tests.sleepy", queue=QUEUE, timeout_s=0.2)
async def sleepy(*, marker: str) -> None:
    await asyncio.sleep(5)
    ran.append(marker)


received: list[tuple[uuid.UUID, dict]] = []


@subscribe("tests.thing_happened")
async def on_thing(tenant_id: uuid.UUID, payload: dict) -> None:
    received.append((tenant_id, payload))


async def _job_status(job_id: int) -> str | None:
    async with get_database().session() as session:
        row = await session.execute(
            text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
        )
        value = row.scalar_one_or_none()
        return None if value is None else str(value)


async def _run_queue_until_empty() -> None:
    await run_queued_jobs(QUEUE, concurrency=2)


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()
    received.clear()


async def test_job_deferred_in_a_committed_transaction_is_queued(app) -> None:
    marker = uuid.uuid4().hex
    async with get_database().session() as session:
        job_id = await defer(session, "tests.record", marker=marker)
    assert await _job_status(job_id) == "todo"
    await _run_queue_until_empty()
    assert ran == [marker]
    assert await _job_status(job_id) == "succeeded"


async def test_a_second_job_with_a_waiting_queueing_lock_is_refused_not_fatal(app) -> None:
    lock = f"tests-{uuid.uuid4().hex}"
    async with get_database().session() as session:
        first = await defer(session, "tests.record", marker="a", lock=lock, queueing_lock=lock)
    async with get_database().session() as session:
        assert await active_job(session, lock) == first
        with pytest.raises(AlreadyQueued):
            await defer(session, "tests.record", marker="b", lock=lock, queueing_lock=lock)
        assert (await session.execute(text("SELECT 1"))).scalar() == 1  # still usable
    await _run_queue_until_empty()
    assert ran == ["a"]
    async with get_database().session() as session:
        assert await active_job(session, lock) is None
        await defer(session, "tests.record", marker="c", lock=lock, queueing_lock=lock)


async def test_job_deferred_in_a_rolled_back_transaction_never_exists(app) -> None:
    marker = uuid.uuid4().hex
    job_ids: list[int] = []

    async def failing_business_change() -> None:
        async with get_database().session() as session:
            job_ids.append(await defer(session, "tests.record", marker=marker))
            raise RuntimeError("the business change failed")

    with pytest.raises(RuntimeError):
        await failing_business_change()
    job_id = job_ids[0]
    assert await _job_status(job_id) is None
    await _run_queue_until_empty()
    assert marker not in ran


async def test_job_exceeding_its_timeout_is_failed_with_the_reason(app) -> None:
    async with get_database().session() as session:
        job_id = await defer(session, "tests.sleepy", marker="never")
    await _run_queue_until_empty()
    assert await _job_status(job_id) == "failed"
    assert ran == []
    async with get_database().session() as session:
        reason = (
            await session.execute(
                text("SELECT reason FROM job_failure WHERE job_id = :id"), {"id": job_id}
            )
        ).scalar_one()
    assert "tests.sleepy exceeded its timeout of 0.2s" in reason


async def test_domain_event_reaches_its_subscriber_after_commit(app) -> None:
    tenant = uuid.uuid4()
    async with get_database().session() as session:
        queued = await emit(session, tenant, "tests.thing_happened", {"n": 1})
    assert queued == 1
    await run_queued_jobs("default")
    assert (tenant, {"n": 1}) in received


async def test_event_without_subscribers_enqueues_nothing(app) -> None:
    async with get_database().session() as session:
        assert await emit(session, uuid.uuid4(), "tests.nobody_listens", {}) == 0


async def test_jobs_of_a_worker_without_heartbeats_are_queued_again(app, owner_dsn) -> None:
    import psycopg

    from mercato.kernel.jobs import retry_stalled_jobs

    async with get_database().session() as session:
        job_id = await defer(session, "tests.record", marker="after-a-crash")
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        dead = conn.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '5 minutes') RETURNING id"
        ).fetchone()[0]
        alive = conn.execute(
            "INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
            [dead, job_id],
        )
        busy_id = conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, status, args, worker_id) "
            "VALUES (%s, 'tests.record', 'doing', '{\"marker\": \"busy\"}', %s) RETURNING id",
            [QUEUE, alive],
        ).fetchone()[0]
    try:
        async with open_queue(get_settings()):
            assert await retry_stalled_jobs(stalled_after_s=60) >= 1
        assert await _job_status(job_id) == "todo"
        assert await _job_status(busy_id) == "doing"  # its worker is alive
        await _run_queue_until_empty()
        assert ran == ["after-a-crash"]
    finally:
        with psycopg.connect(owner_dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [busy_id])
            conn.execute("DELETE FROM procrastinate_workers WHERE id = ANY(%s)", [[dead, alive]])


async def test_a_task_name_nobody_registered_is_refused(app) -> None:
    """Deferring by name must not silently queue a job no worker will ever take."""
    async with get_database().session() as session:
        with pytest.raises(TaskNotFound):
            await defer(session, "tests.no_such_task", marker="lost")


async def test_queue_depth_and_oldest_age_are_scraped_per_queue(app, client, owner_dsn) -> None:
    await _run_queue_until_empty()
    assert await scraped(client, "mercato_job_queue_depth", queue=QUEUE, status="todo") == 0
    async with get_database().session() as session:
        await defer(session, "tests.record", marker="waits")
        await defer(session, "tests.record", marker="waits too")
        await defer(session, "tests.record", delay_s=3600, marker="not due")
        await session.execute(  # the first job was deferred a minute ago
            text(
                "UPDATE procrastinate_events SET at = now() - interval '60 seconds' "
                "WHERE job_id = (SELECT min(id) FROM procrastinate_jobs "
                "WHERE queue_name = :queue AND status = 'todo') AND type = 'deferred'"
            ),
            {"queue": QUEUE},
        )
    assert await scraped(client, "mercato_job_queue_depth", queue=QUEUE, status="todo") == 3
    age = await scraped(client, "mercato_job_queue_oldest_age_seconds", queue=QUEUE)
    assert 60 <= age < 120
    await _run_queue_until_empty()
    assert await scraped(client, "mercato_job_queue_depth", queue=QUEUE, status="todo") == 1
    assert await scraped(client, "mercato_job_queue_oldest_age_seconds", queue=QUEUE) == 0
    with psycopg.connect(owner_dsn) as conn:  # the job not due yet is not left over
        conn.execute("DELETE FROM procrastinate_jobs WHERE queue_name = %s", (QUEUE,))


seen_request_ids: list[str | None] = []


@task("tests.remember_request_id", queue=QUEUE)
async def remember_request_id() -> None:
    seen_request_ids.append(request_id_var.get())


async def test_the_request_id_travels_with_the_job_it_deferred(app) -> None:
    seen_request_ids.clear()
    token = request_id_var.set("checkout-req-0001")
    try:
        async with get_database().session() as session:
            await defer(session, "tests.remember_request_id")
    finally:
        request_id_var.reset(token)
    async with get_database().session() as session:  # deferred outside any request
        await defer(session, "tests.remember_request_id")
    await _run_queue_until_empty()
    assert seen_request_ids == ["checkout-req-0001", None]


async def _jobs_marked(marker: str) -> int:
    async with get_database().session() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE args->>'marker' = :marker"),
            {"marker": marker},
        )
    return int(found or 0)


async def test_statements_and_jobs_pipelined_together_commit_together(app) -> None:
    marker = uuid.uuid4().hex
    async with get_database().session() as session:
        rows, nothing = await execute_deferring(
            session,
            [("SELECT %(n)s::int + 1", {"n": 41}), ("SET LOCAL statement_timeout = 0", {})],
            [job_row("tests.record", marker=marker), job_row("tests.record", marker=marker)],
        )
    assert (rows, nothing) == ([(42,)], [])
    assert await _jobs_marked(marker) == 2


async def test_a_failing_pipelined_statement_queues_nothing(app) -> None:
    """The error surfaces as SQLAlchemy's (answered as every database error), and the
    transaction it aborted is rolled back with the jobs of the pipeline."""
    marker = uuid.uuid4().hex
    with pytest.raises(DBAPIError):
        async with get_database().session() as session:
            await execute_deferring(
                session,
                [("SELECT 1 / %(zero)s::int", {"zero": 0})],
                [job_row("tests.record", marker=marker)],
            )
    assert await _jobs_marked(marker) == 0


async def test_a_pipeline_ending_in_its_commit_commits_and_the_session_carries_on(app) -> None:
    """The jobs are queued once the pipeline answers (its COMMIT ran), the after-commit
    callbacks have run, and the session's next statement runs in a new transaction."""
    marker = uuid.uuid4().hex
    ran: list[str] = []

    async def note() -> None:
        ran.append("after commit")

    async with get_database().session() as session:
        after_commit(session, note)
        rows, _ = await execute_deferring(
            session,
            [("SELECT txid_current()", {}), ("SET LOCAL statement_timeout = 0", {})],
            [job_row("tests.record", marker=marker)],
            commit=True,
        )
        assert ran == ["after commit"]
        assert await _jobs_marked(marker) == 1  # seen from another connection
        following = await session.scalar(text("SELECT txid_current()"))
        assert following != rows[0][0]


async def test_a_failing_statement_skips_the_pipelines_commit(app) -> None:
    """What the transaction wrote before the pipeline is rolled back with it."""
    marker = uuid.uuid4().hex
    async with get_database().session() as session:
        await defer(session, "tests.record", marker=marker)
        with pytest.raises(DBAPIError):
            await execute_deferring(
                session,
                [("SELECT 1 / %(zero)s::int", {"zero": 0})],
                [job_row("tests.record", marker=marker)],
                commit=True,
            )
        await session.rollback()
    assert await _jobs_marked(marker) == 0


def test_a_process_that_never_imported_the_jobs_still_defers_by_name() -> None:
    """The demo seed runs before the app imports every module's jobs; its first job row
    must still find the task, with the task's own queue."""
    script = (
        "import mercato.modules\n"
        "from mercato.kernel.jobs import job_app, job_row\n"
        "assert 'channels.push_feed' not in job_app.tasks\n"
        "print(job_row('channels.push_feed', tenant_id='t', job_id='j')['queue_name'])\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "channels"
