"""Background jobs on procrastinate, a PostgreSQL queue: no broker beside the database.

- `task(name)` declares a job; it runs under a timeout, and a job that exceeds it, or
  raises, is marked failed by procrastinate and its reason lands in `job_failure`.
- `defer(session, "module.task", **kwargs)` enqueues by name *inside the caller's
  transaction*: the job becomes visible to workers only if that transaction commits; a
  rollback drops it. One statement: procrastinate's own SQL function for deferring
  (`procrastinate_defer_jobs_v1`), called on the session's connection without building
  procrastinate's Job objects; `defer_jobs` enqueues several at once, `execute_deferring`
  sends them with the caller's hot write in one round trip.
- Periodic tasks are declared with `periodic(cron)` next to the task; `mercato.schedule`
  imports every module's jobs so the worker knows them all.
- Workers send heartbeats; the jobs of a worker that stopped sending them (killed, out of
  memory, host lost) are put back in the queue by `retry_stalled_jobs`, which every worker
  runs when it starts and a periodic task runs every minute. Delivery is therefore at
  least once: a job must be safe to run again after a crash in its middle.
Jobs take ids, not objects, open their own session and hand off to a service.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import procrastinate
import psycopg
import structlog
from procrastinate import JobContext, RetryStrategy
from procrastinate.exceptions import ConnectorException
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import error_reports, tracing
from mercato.kernel.context import request_id_var
from mercato.kernel.db import commit_midway, get_database, session_driver, violates
from mercato.kernel.logging import get_logger
from mercato.kernel.metrics import GaugeSpec, Sample, scraped_gauges
from mercato.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")

log = get_logger("mercato.jobs")

REQUEST_ID_ARG = "_request_id"
TRACE_ARG = "_trace"

# Tasks register on this app at import time; the connector is swapped for a real one when a
# process opens the queue (`open_queue`), so importing a module never touches the database.
job_app = procrastinate.App(connector=procrastinate.PsycopgConnector())


class JobTimedOut(Exception):
    """A job ran longer than its timeout and was cancelled."""


async def _record_failure(job_id: int | None, task_name: str, attempt: int, reason: str) -> None:
    try:
        async with get_database().session() as session:
            await session.execute(
                text(
                    "INSERT INTO job_failure (job_id, task_name, attempt, reason) "
                    "VALUES (:job_id, :task_name, :attempt, :reason)"
                ),
                {
                    "job_id": job_id,
                    "task_name": task_name,
                    "attempt": attempt,
                    "reason": reason[:2000],
                },
            )
    except Exception:  # the job's own failure matters more than its bookkeeping
        log.exception("job_failure_not_recorded", task=task_name, job_id=job_id)


def task(
    name: str,
    *,
    timeout_s: float | None = None,
    retry: int | RetryStrategy = 0,
    queue: str = "default",
) -> Callable[[Callable[..., Awaitable[Any]]], Any]:
    """Declare a job named `module.event` that runs under a timeout (seconds)."""

    def decorator(func: Callable[..., Awaitable[Any]]) -> Any:
        limit = timeout_s if timeout_s is not None else get_settings().job_default_timeout_s

        @functools.wraps(func)
        async def run(context: JobContext, **kwargs: Any) -> Any:
            job = context.job
            attempt = (job.attempts or 0) + 1
            request_id = kwargs.pop(REQUEST_ID_ARG, None)
            trace_headers = kwargs.pop(TRACE_ARG, None)
            token = request_id_var.set(request_id)
            structlog.contextvars.clear_contextvars()
            if request_id:
                structlog.contextvars.bind_contextvars(request_id=request_id)
            try:
                with tracing.job_span(name, trace_headers, kwargs.get("tenant_id")):
                    return await asyncio.wait_for(func(**kwargs), limit)
            except TimeoutError:
                reason = f"{name} exceeded its timeout of {limit:g}s"
                await _record_failure(job.id, name, attempt, reason)
                raise JobTimedOut(reason) from None
            except Exception as exc:
                await _record_failure(job.id, name, attempt, f"{type(exc).__name__}: {exc}")
                error_reports.report(
                    exc, job=name, request_id=request_id, tenant_id=kwargs.get("tenant_id")
                )
                raise
            finally:
                request_id_var.reset(token)

        register: Any = job_app.task(name=name, pass_context=True, retry=retry, queue=queue)
        return register(run)

    return decorator


def periodic(cron: str, *, periodic_id: str = "") -> Callable[[Any], Any]:
    """Run a task on a schedule (cron syntax, UTC); the task receives `timestamp`."""
    return job_app.periodic(cron=cron, periodic_id=periodic_id)


class AlreadyQueued(Exception):
    """A job with the same queueing lock is already waiting (`defer(queueing_lock=)`)."""


QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"  # unique while waiting


JobRow = dict[str, Any]
"""One job to enqueue: the fields of procrastinate's `procrastinate_job_to_defer_v1`."""

# procrastinate's own enqueue (its versioned SQL function: the jobs and their `deferred`
# events, the NOTIFY to waiting workers), fed every job of a call as one jsonb array.
DEFER_JOBS_SQL = (
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY(SELECT jsonb_populate_recordset("
    "CAST(NULL AS procrastinate_job_to_defer_v1), %(jobs)s))))"
)


def job_row(
    task_name: str,
    *,
    delay_s: float | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
    **kwargs: Any,
) -> JobRow:
    """The queue row of `task_name` with `kwargs` (see `defer`); an unknown name raises.

    The task's own queue, priority and locks unless `lock`/`queueing_lock` are given. The
    caller's request id and, with tracing on, its trace context travel in the arguments.
    """
    registered = job_app.tasks.get(task_name)
    if registered is None:
        # A process that never imported the modules' jobs (the demo seed before the app
        # starts, a CLI command) imports them now, as procrastinate's own `defer` does.
        job_app.perform_import_paths()  # type: ignore[no-untyped-call]  # unannotated upstream
        registered = job_app.tasks.get(task_name)
    if registered is None:
        raise procrastinate.exceptions.TaskNotFound(f"no task named {task_name!r}")
    request_id = request_id_var.get()
    if request_id is not None:
        kwargs[REQUEST_ID_ARG] = request_id
    trace_headers = tracing.carrier()
    if trace_headers is not None:
        kwargs[TRACE_ARG] = trace_headers
    scheduled_at = datetime.now(UTC) + timedelta(seconds=delay_s) if delay_s else None
    return {
        "queue_name": registered.queue,
        "task_name": task_name,
        "priority": registered.priority,
        "lock": lock if lock is not None else registered.lock,
        "queueing_lock": queueing_lock if queueing_lock is not None else registered.queueing_lock,
        "args": kwargs,
        "scheduled_at": None if scheduled_at is None else scheduled_at.isoformat(),
    }


def _as_dbapi_error(statement: str, exc: psycopg.Error) -> StatementError:
    """The error as SQLAlchemy would raise it (a `DBAPIError` subclass for a psycopg
    error), so it is answered as every database error."""
    return DBAPIError.instance(statement, None, exc, psycopg.Error)


Statement = tuple[str, Mapping[str, Any]]
"""SQL with psycopg's `%(name)s` placeholders, and its parameters."""


async def execute_deferring(
    session: AsyncSession,
    statements: Sequence[Statement],
    jobs: Sequence[JobRow],
    *,
    commit: bool = False,
) -> list[list[tuple[Any, ...]]]:
    """Run `statements` and enqueue `jobs` in one round trip (a pipeline), in the session's
    transaction; returns each statement's rows (none for one that returns nothing).

    For a hot write whose event is known before it runs (checkout's order insert). If a
    statement fails, the ones after it and the enqueue are skipped and the error raised;
    if the rows say the write did not happen, the caller raises too, and the rollback
    drops the jobs with it.

    `commit`: the pipeline ends with the transaction's COMMIT (no round trip of its own,
    and row locks released one round trip sooner), then the after-commit callbacks run, as
    after `commit_midway`, and the session carries on in a new transaction under the same
    scope. A failing statement skips the COMMIT too: nothing is committed. The caller must
    then have nothing to check in the rows that could call for a rollback.
    """
    if commit:
        await session.flush()  # pending ORM changes belong to the committed transaction
    driver = await session_driver(session)
    try:
        async with driver.pipeline():
            cursors = [await driver.execute(sql, params) for sql, params in statements]
            if jobs:
                await driver.execute(DEFER_JOBS_SQL, {"jobs": Jsonb(list(jobs))})
            if commit:
                await driver.execute(b"COMMIT", prepare=False)
        rows = [[] if c.description is None else await c.fetchall() for c in cursors]
    except psycopg.Error as exc:
        raise _as_dbapi_error("; ".join(sql for sql, _ in statements), exc) from exc
    if commit:
        await commit_midway(session)  # the transaction is over: psycopg sends nothing more
    return rows


async def defer_jobs(session: AsyncSession, jobs: Sequence[JobRow]) -> list[int]:
    """Enqueue `jobs` (`job_row`) in the session's transaction, in one statement."""
    if not jobs:
        return []
    driver = await session_driver(session)
    try:
        cursor = await driver.execute(DEFER_JOBS_SQL, {"jobs": Jsonb(list(jobs))})
        return [int(row[0]) for row in await cursor.fetchall()]
    except psycopg.Error as exc:
        raise _as_dbapi_error(DEFER_JOBS_SQL, exc) from exc


async def defer(
    session: AsyncSession,
    task_name: str,
    *,
    delay_s: float | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
    **kwargs: Any,
) -> int:
    """Enqueue the task named `task_name` in the session's transaction (after `delay_s`).

    `lock`: jobs sharing it run one at a time; `queueing_lock`: at most one of them waits
    at a time, a second `defer` raises `AlreadyQueued` (see `active_job`).

    By name, so a service never imports its module's jobs (which import the service). The
    task must be registered in this process (`create_app` and the worker import every
    module's jobs), so it lands on its own queue; an unknown name raises. Returns the job id.

    The caller's request id and, with tracing on, its trace context travel in the job's
    arguments (`REQUEST_ID_ARG`, `TRACE_ARG`); `task` restores them in the worker, so the
    job's log lines carry the request id and its span continues the request's trace.
    """
    row = job_row(task_name, delay_s=delay_s, lock=lock, queueing_lock=queueing_lock, **kwargs)
    if row["queueing_lock"] is None:
        (deferred,) = await defer_jobs(session, [row])
        return deferred
    # The refused insert must not abort the caller's transaction: a savepoint takes it.
    try:
        async with session.begin_nested():
            (deferred,) = await defer_jobs(session, [row])
    except IntegrityError as exc:
        if not violates(exc, QUEUEING_LOCK_INDEX):
            raise
        raise AlreadyQueued(f"a job with queueing lock {row['queueing_lock']} waits") from None
    return deferred


_ACTIVE_JOB = text(
    "SELECT id FROM procrastinate_jobs WHERE lock = :lock AND status IN ('todo', 'doing') "
    "ORDER BY id LIMIT 1"
)


async def active_job(session: AsyncSession, lock: str) -> int | None:
    """The id of a job holding `lock` that waits or runs, if any."""
    found = await session.scalar(_ACTIVE_JOB, {"lock": lock})
    return int(found) if found is not None else None


def queue_connector(conninfo: str, *, max_size: int = 4) -> procrastinate.PsycopgConnector:
    return procrastinate.PsycopgConnector(
        conninfo=conninfo, kwargs={"application_name": "mercato-queue"}, max_size=max_size
    )


async def retry_stalled_jobs(stalled_after_s: float | None = None) -> int:
    """Queue again the running jobs of workers silent for `stalled_after_s`; returns how many."""
    after = stalled_after_s or get_settings().job_stalled_after_s
    retried = 0
    for job in await job_app.job_manager.get_stalled_jobs(seconds_since_heartbeat=after):
        try:
            await job_app.job_manager.retry_job(job)
        except ConnectorException:  # another worker retried it first, or it just finished
            continue
        retried += 1
        log.warning("stalled_job_retried", job_id=job.id, task=job.task_name, queue=job.queue)
    return retried


@periodic("* * * * *", periodic_id="retry-stalled-jobs")
@task("kernel.retry_stalled_jobs", queue="maintenance", timeout_s=120)
async def retry_stalled_jobs_every_minute(*, timestamp: int) -> None:
    """Recover jobs of dead workers even when no worker restarts."""
    await retry_stalled_jobs()


_QUEUE_STATE = text(
    """
    SELECT j.queue_name, j.status::text, count(*),
           min(coalesce(j.scheduled_at, d.at)) FILTER (
               WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
           ),
           now()
      FROM procrastinate_jobs j
      LEFT JOIN procrastinate_events d ON d.job_id = j.id AND d.type = 'deferred'
     WHERE j.status IN ('todo', 'doing')
     GROUP BY j.queue_name, j.status
    """
)
"""Waiting (`todo`) and running (`doing`) jobs per queue, and since when the oldest job
that may run now has been waiting (its schedule time, else when it was deferred)."""


QUEUE_DEPTH = "mercato_job_queue_depth"
QUEUE_OLDEST_AGE = "mercato_job_queue_oldest_age_seconds"


async def _queue_state() -> dict[str, list[Sample]]:
    async with get_database().session() as session:
        rows = (await session.execute(_QUEUE_STATE)).all()
    return {
        QUEUE_DEPTH: [((queue, status), count) for queue, status, count, _, _ in rows],
        QUEUE_OLDEST_AGE: [
            ((queue,), max((now - since).total_seconds(), 0.0))
            for queue, _, _, since, now in rows
            if since is not None
        ],
    }


scraped_gauges(
    [
        GaugeSpec(
            QUEUE_DEPTH,
            "Jobs per queue that wait (status todo) or run (status doing).",
            ("queue", "status"),
        ),
        GaugeSpec(
            QUEUE_OLDEST_AGE,
            "Seconds the oldest job that may run now has waited (absent: none waits).",
            ("queue",),
        ),
    ],
    _queue_state,
)
