"""Who hears about events as they are stored: a small hook for modules that keep live
state from the event stream (recommendations' co-purchase and trending counts).

A listener registers once, at import, with `on_events_stored`; it is called with the
tenant and the events that were stored (never duplicates), after their transaction
committed, for events sent to the API and for system callers' live events (`realtime`).
Imports of history do not reach listeners: they belong in the models fitted from the
database. Listeners run before the API answers the request, concurrently with the live
counters, so they must be quick (one Redis round trip); one that fails is logged and
never fails the request (the events are stored whatever happens to it).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from mercato.kernel.logging import get_logger

log = get_logger("mercato.tracking.listeners")


class StoredEvent(Protocol):
    """What a listener may read of a stored event."""

    @property
    def occurred_at(self) -> datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def product_id(self) -> str | None: ...
    @property
    def order_id(self) -> str | None: ...


Listener = Callable[[uuid.UUID, Sequence[StoredEvent]], Awaitable[None]]

_listeners: dict[str, Listener] = {}


def on_events_stored(listener: Listener) -> Listener:
    """Register `listener` (by its qualified name, so importing twice registers once)."""
    _listeners[f"{listener.__module__}.{listener.__qualname__}"] = listener
    return listener


async def notify_stored(stored: dict[uuid.UUID, Sequence[StoredEvent]]) -> None:
    """Tell every listener about each tenant's stored events; failures are logged."""
    calls = [
        listener(tenant_id, events)
        for tenant_id, events in stored.items()
        if events
        for listener in _listeners.values()
    ]
    for failure in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(failure, BaseException):
            log.error("event_listener_failed", error=repr(failure))
