"""The job worker: procrastinate over the owner connection, with the app's DB and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from mercato.kernel import error_reports, tracing
from mercato.kernel.db import close_database, init_database, libpq_url
from mercato.kernel.jobs import job_app, queue_connector, retry_stalled_jobs
from mercato.kernel.logging import get_logger
from mercato.kernel.metrics import serve_metrics
from mercato.kernel.redis import close_redis, init_redis
from mercato.modules import import_all
from mercato.settings import Settings

log = get_logger("mercato.worker")


@asynccontextmanager
async def open_queue(settings: Settings) -> AsyncIterator[None]:
    """Point the job app at this deployment's database for the duration of the block."""
    database = init_database(settings)
    import_all("jobs")
    connector = queue_connector(libpq_url(database.urls.owner))
    with job_app.replace_connector(connector):
        async with job_app.open_async():
            yield


def worker_options(settings: Settings, *, concurrency: int) -> dict[str, Any]:
    """Options every worker runs with: heartbeats that let others tell it died."""
    return {
        "concurrency": concurrency,
        "update_heartbeat_interval": settings.job_heartbeat_s,
        "stalled_worker_timeout": settings.job_stalled_after_s,
    }


async def run_worker(
    settings: Settings, *, concurrency: int, queues: Iterable[str] | None = None
) -> None:
    tracing.configure()
    error_reports.configure(settings)
    if settings.worker_metrics_port is not None:
        serve_metrics(settings.worker_metrics_port, settings.worker_metrics_host)
    init_redis(settings)
    try:
        async with open_queue(settings):
            retried = await retry_stalled_jobs()
            log.info(
                "worker_started",
                concurrency=concurrency,
                queues=list(queues or []),
                stalled_jobs_retried=retried,
            )
            options = {**worker_options(settings, concurrency=concurrency), "wait": True}
            if queues:
                options["queues"] = list(queues)
            await job_app.run_worker_async(**options)
    finally:
        await close_redis()
        await close_database()
        tracing.shutdown()
        error_reports.shutdown()
