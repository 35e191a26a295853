"""Domain events: written in the same transaction as the change, delivered by the worker.

A module announces `await emit(session, tenant_id, "order.created", {...})`; another
module reacts with `@subscribe("order.created")` on an async handler taking
`(tenant_id, payload)` (optionally only for interested tenants), or to every event with
`@subscribe_all` on a handler taking `(tenant_id, event, payload)` (outbound webhooks).
Each (event, handler) pair becomes its own job, so one failing handler is retried without
re-running the others. Handlers must be idempotent: a job can run again after a crash.

Interest tests (`interested`) run on every emit of a hot path, so their answers are kept
in process memory per (test, tenant) while the listener is live (`mercato.kernel.listen`),
for at most `INTEREST_TTL_S`. Whoever changes what a test reads calls `interest_changed`
in the same transaction: at commit every process forgets the tenant's answers (this one
at once, the others when the notification arrives, within milliseconds).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import listen
from mercato.kernel.db import after_commit
from mercato.kernel.jobs import JobRow, defer_jobs, job_row, task

Handler = Callable[[uuid.UUID, dict[str, Any]], Awaitable[None]]
AnyEventHandler = Callable[[uuid.UUID, str, dict[str, Any]], Awaitable[None]]
Interest = Callable[[AsyncSession, uuid.UUID], Awaitable[bool]]

_handlers: dict[str, dict[str, Handler]] = {}
_all_handlers: dict[str, tuple[AnyEventHandler, Interest | None]] = {}
_interests: dict[str, tuple[str, Interest]] = {}  # handler -> (the test's name, the test)

INTEREST_CHANNEL = "mercato_interest"
INTEREST_TTL_S = 60.0  # a change written behind the application's back is seen by then
MAX_INTEREST_ENTRIES = 50_000
_NOTIFY_INTEREST = text(f"SELECT pg_notify('{INTEREST_CHANNEL}', :tenant)")


class InterestMemory:
    """Interest answers per (test, tenant), trusted only while notifications flow; an
    answer whose query started before a change of its tenant is not kept (`clock`)."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, uuid.UUID], tuple[float, bool]] = {}
        self.clock = listen.ChangeClock(MAX_INTEREST_ENTRIES)

    def get(self, test: str, tenant_id: uuid.UUID) -> bool | None:
        entry = self.answers.get((test, tenant_id))
        if entry is None or not listen.is_live() or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, test: str, tenant_id: uuid.UUID, answer: bool, started: int) -> None:
        if not listen.is_live() or not self.clock.unchanged_since(started, tenant_id):
            return
        if len(self.answers) >= MAX_INTEREST_ENTRIES:
            self.answers.clear()
        self.answers[(test, tenant_id)] = (time.monotonic() + INTEREST_TTL_S, answer)

    def apply(self, payload: str) -> None:
        """A tenant's interests changed (a notification, or this process's own commit)."""
        tenant_id = uuid.UUID(payload)
        self.clock.changed(tenant_id)
        self.answers = {k: v for k, v in self.answers.items() if k[1] != tenant_id}

    def reset(self) -> None:
        """The listener lost its connection: forget every answer."""
        self.clock.reset()
        self.answers.clear()


interest_memory = InterestMemory()
listen.subscribe(
    listen.Subscription(
        channel=INTEREST_CHANNEL, on_message=interest_memory.apply, on_reset=interest_memory.reset
    )
)


async def interest_changed(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """What an interest test reads changed for `tenant_id` in this transaction: at commit,
    every process forgets the tenant's remembered answers."""
    await session.execute(_NOTIFY_INTEREST, {"tenant": str(tenant_id)})

    async def forget() -> None:
        interest_memory.apply(str(tenant_id))

    after_commit(session, forget)


def handler_name(handler: Handler | AnyEventHandler | Interest) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def subscribe_all(
    interested: Interest | None = None,
) -> Callable[[AnyEventHandler], AnyEventHandler]:
    """Register a handler for every event (it receives the event name too).

    `interested(session, tenant_id)` is asked once per transaction and tenant at emit
    time, so a tenant with nothing to deliver costs no job per event.
    """

    def register(handler: AnyEventHandler) -> AnyEventHandler:
        name = handler_name(handler)
        _all_handlers[name] = (handler, interested)
        if interested is not None:
            _interests[name] = (handler_name(interested), interested)
        return handler

    return register


def subscribe(event: str, interested: Interest | None = None) -> Callable[[Handler], Handler]:
    """Register `handler` for `event` (registration happens when its module is imported).

    With `interested`, asked as for `subscribe_all`, a tenant it declines costs no job: for
    events on hot paths (stock changes at checkout) that few tenants need.
    """

    def register(handler: Handler) -> Handler:
        name = handler_name(handler)
        _handlers.setdefault(event, {})[name] = handler
        if interested is not None:
            _interests[name] = (handler_name(interested), interested)
        return handler

    return register


def subscribers(event: str) -> list[str]:
    return sorted([*_handlers.get(event, {}), *_all_handlers])


async def _answer(
    session: AsyncSession, tenant_id: uuid.UUID, test: str, interested: Interest
) -> bool:
    """The test's answer for the tenant: kept for the transaction (an `emit` after
    `ask_interest` asks nothing), remembered by the process (see `InterestMemory`)."""
    memo: dict[tuple[str, uuid.UUID], bool] = session.info.setdefault("event_interest", {})
    answer = memo.get((test, tenant_id))
    if answer is None:
        answer = interest_memory.get(test, tenant_id)
        if answer is None:
            started = interest_memory.clock.seq
            answer = await interested(session, tenant_id)
            interest_memory.put(test, tenant_id, answer, started)
        memo[(test, tenant_id)] = answer
    return answer


async def _interested(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> bool:
    found = _interests.get(name)
    return True if found is None else await _answer(session, tenant_id, *found)


async def ask_interest(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Ask the interest tests now (each once, however many subscribers share it).

    For a caller about to hold contended row locks until its commit (checkout): its
    `emit` after taking them then costs only the enqueue, never a query.
    """
    for test, interested in dict(_interests.values()).items():
        await _answer(session, tenant_id, test, interested)


async def deliveries(
    session: AsyncSession, tenant_id: uuid.UUID, event: str, payload: dict[str, Any]
) -> list[JobRow]:
    """The delivery jobs `emit` enqueues (one per interested subscriber), not yet enqueued:
    for a caller that enqueues them with its own write (`jobs.execute_deferring`)."""
    names = [name for name in subscribers(event) if await _interested(session, tenant_id, name)]
    return [
        job_row(
            "events.deliver", event=event, handler=name, tenant_id=str(tenant_id), payload=payload
        )
        for name in names
    ]


async def emit(
    session: AsyncSession, tenant_id: uuid.UUID, event: str, payload: dict[str, Any]
) -> int:
    """Enqueue one delivery job per interested subscriber, inside the session's transaction
    (all of them in one statement)."""
    return len(await defer_jobs(session, await deliveries(session, tenant_id, event, payload)))


@task("events.deliver", retry=5)
async def deliver_event(
    *, event: str, handler: str, tenant_id: str, payload: dict[str, Any]
) -> None:
    tenant = uuid.UUID(tenant_id)
    registered = _handlers.get(event, {}).get(handler)
    if registered is not None:
        await registered(tenant, payload)
        return
    if handler not in _all_handlers:
        raise LookupError(f"no handler {handler} for {event} in this process")
    any_event, _ = _all_handlers[handler]
    await any_event(tenant, event, payload)
