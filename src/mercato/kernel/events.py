"""Domain events: written in the same transaction as the change, delivered by the worker.

A module announces `await emit(session, tenant_id, "order.created", {...})`; another
module reacts with `@subscribe("order.created")` on an async handler taking
`(tenant_id, payload)` (optionally only for interested tenants), or to every event with
`@subscribe_all` on a handler taking `(tenant_id, event, payload)` (outbound webhooks).
Each (event, handler) pair becomes its own job, so one failing handler is retried without
re-running the others. Handlers must be idempotent: a job can run again after a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.jobs import defer, task

Handler = Callable[[uuid.UUID, dict[str, Any]], Awaitable[None]]
AnyEventHandler = Callable[[uuid.UUID, str, dict[str, Any]], Awaitable[None]]
Interest = Callable[[AsyncSession, uuid.UUID], Awaitable[bool]]

_handlers: dict[str, dict[str, Handler]] = {}
_all_handlers: dict[str, tuple[AnyEventHandler, Interest | None]] = {}
_interests: dict[str, Interest] = {}


def handler_name(handler: Handler | AnyEventHandler) -> str:
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
            _interests[name] = interested
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
            _interests[name] = interested
        return handler

    return register


def subscribers(event: str) -> list[str]:
    return sorted([*_handlers.get(event, {}), *_all_handlers])


async def _interested(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> bool:
    interested = _interests.get(name)
    if interested is None:
        return True
    memo: dict[tuple[str, uuid.UUID], bool] = session.info.setdefault("event_interest", {})
    if (name, tenant_id) not in memo:
        memo[(name, tenant_id)] = await interested(session, tenant_id)
    return memo[(name, tenant_id)]


async def ask_interest(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Ask subscribers with an interest test for it now (kept for the transaction).

    For a caller about to hold contended row locks until its commit (checkout): its
    `emit` after taking them then costs only the enqueue.
    """
    for name in _interests:
        await _interested(session, tenant_id, name)


async def emit(
    session: AsyncSession, tenant_id: uuid.UUID, event: str, payload: dict[str, Any]
) -> int:
    """Enqueue one delivery job per interested subscriber, inside the session's transaction."""
    names = [name for name in subscribers(event) if await _interested(session, tenant_id, name)]
    for name in names:
        await defer(
            session,
            "events.deliver",
            event=event,
            handler=name,
            tenant_id=str(tenant_id),
            payload=payload,
        )
    return len(names)


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
