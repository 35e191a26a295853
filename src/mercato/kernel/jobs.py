"""Background jobs on procrastinate, a PostgreSQL queue: no broker beside the database.

- `task(name)` declares a job; it runs under a timeout, and a job that exceeds it, or
  raises, is marked failed by procrastinate and its reason lands in `job_failure`.
- `defer(session, task, **kwargs)` enqueues *inside the caller's transaction*: the job
  becomes visible to workers only if that transaction commits; a rollback drops it.
- Periodic tasks are declared with `periodic(cron)` next to the task; `mercato.schedule`
  imports every module's jobs so the worker knows them all.
Jobs take ids, not objects, open their own session and hand off to a service.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import procrastinate
from procrastinate import JobContext, RetryStrategy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.logging import get_logger
from mercato.settings import get_settings

P = ParamSpec("P")
R = TypeVar("R")

log = get_logger("mercato.jobs")

# Tasks register on this app at import time; the connector is swapped for a real one when a
# process opens the queue (`open_queue`), so importing a module never touches the database.
job_app = procrastinate.App(connector=procrastinate.PsycopgConnector())


class JobTimedOut(Exception):
    """A job ran longer than its timeout and was cancelled."""


async def _record_failure(job_id: int | None, task_name: str, attempt: int, reason: str) -> None:
    from mercato.kernel.db import get_database

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
            try:
                return await asyncio.wait_for(func(**kwargs), limit)
            except TimeoutError:
                reason = f"{name} exceeded its timeout of {limit:g}s"
                await _record_failure(job.id, name, attempt, reason)
                raise JobTimedOut(reason) from None
            except Exception as exc:
                await _record_failure(job.id, name, attempt, f"{type(exc).__name__}: {exc}")
                raise

        register: Any = job_app.task(name=name, pass_context=True, retry=retry, queue=queue)
        return register(run)

    return decorator


def periodic(cron: str, *, periodic_id: str = "") -> Callable[[Any], Any]:
    """Run a task on a schedule (cron syntax, UTC); the task receives `timestamp`."""
    return job_app.periodic(cron=cron, periodic_id=periodic_id)


async def defer(
    session: AsyncSession, job: Any, *, delay_s: float | None = None, **kwargs: Any
) -> int:
    """Enqueue `job` in the session's transaction (after `delay_s`); returns the job id."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    options: dict[str, Any] = {"connection": raw.driver_connection}
    if delay_s:
        options["schedule_in"] = {"seconds": delay_s}
    deferred: int = await job.configure(**options).defer_async(**kwargs)
    return deferred


def queue_connector(conninfo: str, *, max_size: int = 4) -> procrastinate.PsycopgConnector:
    return procrastinate.PsycopgConnector(
        conninfo=conninfo, kwargs={"application_name": "mercato-queue"}, max_size=max_size
    )
