"""Run the queued jobs of a test, and nothing the clock would add.

A worker also defers the periodic tasks that are due, so a test that happened to run at
02:40 UTC would see the daily feed push join its own jobs. Tests run the worker with an
empty periodic registry; the schedules themselves are tested where they are declared.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from procrastinate.periodic import PeriodicRegistry

from mercato.kernel.jobs import job_app
from mercato.settings import get_settings
from mercato.worker import open_queue


async def run_queued_jobs(*queues: str, concurrency: int = 1, rounds: int = 1) -> None:
    """Run every job queued on `queues` (all queues when none), `rounds` times over."""
    schedules = job_app.periodic_registry
    job_app.periodic_registry = PeriodicRegistry()
    try:
        async with open_queue(get_settings()):
            for _ in range(rounds):
                await job_app.run_worker_async(
                    queues=list(queues) or None,
                    wait=False,
                    install_signal_handlers=False,
                    concurrency=concurrency,
                )
    finally:
        job_app.periodic_registry = schedules


@asynccontextmanager
async def running_worker(*queues: str, polling_s: float = 0.5) -> AsyncIterator[None]:
    """A worker taking jobs from `queues` in the background for the block (no schedules),
    as `mercato worker` does beside the API."""
    schedules = job_app.periodic_registry
    job_app.periodic_registry = PeriodicRegistry()
    try:
        async with open_queue(get_settings()):
            worker = asyncio.create_task(
                job_app.run_worker_async(
                    queues=list(queues) or None,
                    wait=True,
                    install_signal_handlers=False,
                    fetch_job_polling_interval=polling_s,
                )
            )
            try:
                yield
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
    finally:
        job_app.periodic_registry = schedules
