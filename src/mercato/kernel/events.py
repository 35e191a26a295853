"""Domain events: written in the same transaction as the change, delivered by the worker.

A module announces `await emit(session, tenant_id, "order.created", {...})`; another
module reacts with `@subscribe("order.created")` on an async handler taking
`(tenant_id, payload)`. Each (event, handler) pair becomes its own job, so one failing
handler is retried without re-running the others. Handlers must be idempotent: a job can
run again after a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.jobs import defer, task

Handler = Callable[[uuid.UUID, dict[str, Any]], Awaitable[None]]

_handlers: dict[str, dict[str, Handler]] = {}


def handler_name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def subscribe(event: str) -> Callable[[Handler], Handler]:
    """Register `handler` for `event` (registration happens when its module is imported)."""

    def register(handler: Handler) -> Handler:
        _handlers.setdefault(event, {})[handler_name(handler)] = handler
        return handler

    return register


def subscribers(event: str) -> list[str]:
    return sorted(_handlers.get(event, {}))


async def emit(
    session: AsyncSession, tenant_id: uuid.UUID, event: str, payload: dict[str, Any]
) -> int:
    """Enqueue one delivery job per subscriber, inside the session's transaction."""
    names = subscribers(event)
    for name in names:
        await defer(
            session,
            deliver_event,
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
    registered = _handlers.get(event, {}).get(handler)
    if registered is None:
        raise LookupError(f"no handler {handler} for {event} in this process")
    await registered(uuid.UUID(tenant_id), payload)
