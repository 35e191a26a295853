"""PostgreSQL notifications (LISTEN/NOTIFY) delivered to in-process subscribers.

A module that keeps something in process memory which PostgreSQL can change subscribes
to a channel; triggers (or `pg_notify` calls) on the owning tables notify it at commit,
whatever wrote the change: the API, a job, another machine, an operator's psql.

One connection per process listens. A subscriber has three callbacks:
- `on_ready` runs once the channel is listened to (after every reconnection), before
  `on_message` sees anything, so a subscriber can load what it must know up front;
- `on_message(payload)` runs for each notification, in commit order;
- `on_reset` runs when the connection is lost: nothing sent meanwhile will arrive, so
  whatever was built on notifications must be dropped until the next `on_ready`.

`is_live()` says whether notifications are being received right now; a cache built on
them must not be trusted while it is false.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import psycopg

from mercato.kernel.logging import get_logger

log = get_logger("mercato.listen")

HEARTBEAT_S = 5.0
RECONNECT_MAX_S = 10.0
BARRIER_CHANNEL = "mercato_listen_barrier"


@dataclass
class Subscription:
    channel: str
    on_message: Callable[[str], None]
    on_reset: Callable[[], None]
    on_ready: Callable[[psycopg.AsyncConnection], Awaitable[None]] | None = None


@dataclass
class _State:
    subscriptions: list[Subscription] = field(default_factory=list)
    live: bool = False
    connections: int = 0
    task: asyncio.Task[None] | None = None
    connect: Callable[[], Awaitable[psycopg.AsyncConnection]] | None = None
    barriers: dict[str, asyncio.Future[None]] = field(default_factory=dict)


_state = _State()


class ChangeClock:
    """Change numbers for a memory that notifications keep valid.

    `seq` counts the changes applied; a load notes it before it reads PostgreSQL, and
    keeps what it read only if `unchanged_since(start, subject…)`: none of its subjects
    changed meanwhile, and no `reset` happened. Subjects seen are bounded: past
    `max_subjects` they are all forgotten and `floor` moves up, so every load in flight
    is refused rather than one wrongly trusted.
    """

    def __init__(self, max_subjects: int) -> None:
        self.max_subjects = max_subjects
        self.seq = 0
        self.floor = 0
        self.changed_at: dict[uuid.UUID, int] = {}

    def changed(self, subject: uuid.UUID) -> None:
        self.seq += 1
        if len(self.changed_at) >= self.max_subjects:
            self.changed_at.clear()
            self.floor = self.seq
        self.changed_at[subject] = self.seq

    def reset(self) -> None:
        """Notifications may have been missed: no load started before now is trusted."""
        self.seq += 1
        self.floor = self.seq
        self.changed_at.clear()

    def unchanged_since(self, start: int, *subjects: uuid.UUID) -> bool:
        return start >= self.floor and all(
            self.changed_at.get(subject, 0) <= start for subject in subjects
        )


def subscribe(subscription: Subscription) -> None:
    """Register a subscriber (at import time; the listener picks it up when it starts)."""
    _state.subscriptions.append(subscription)


def is_live() -> bool:
    return _state.live


def connections() -> int:
    """How many times the listener has connected (a reconnection counts once more)."""
    return _state.connections


def _reset() -> None:
    _state.live = False
    for subscription in _state.subscriptions:
        try:
            subscription.on_reset()
        except Exception:
            log.exception("listen_reset_failed", channel=subscription.channel)


async def _session(connect: Callable[[], Awaitable[psycopg.AsyncConnection]]) -> None:
    """One connection's life: LISTEN, ready hooks, then deliver until it breaks."""
    async with await connect() as conn:
        by_channel: dict[str, list[Subscription]] = {}
        for subscription in _state.subscriptions:
            by_channel.setdefault(subscription.channel, []).append(subscription)
        for channel in [*by_channel, BARRIER_CHANNEL]:
            await conn.execute(f'LISTEN "{channel}"')
        for subscription in _state.subscriptions:
            if subscription.on_ready is not None:
                await subscription.on_ready(conn)
        _state.live = True
        _state.connections += 1
        log.info("listen_connected", channels=sorted(by_channel))
        while True:
            async for notify in conn.notifies(timeout=HEARTBEAT_S):
                if notify.channel == BARRIER_CHANNEL:
                    _passed(notify.payload)
                for subscription in by_channel.get(notify.channel, ()):
                    try:
                        subscription.on_message(notify.payload)
                    except Exception:
                        # A message the subscriber could not apply: trust nothing it built.
                        log.exception("listen_message_failed", channel=notify.channel)
                        subscription.on_reset()
            await conn.execute("SELECT 1")  # a silent network failure surfaces here


async def _run(connect: Callable[[], Awaitable[psycopg.AsyncConnection]]) -> None:
    delay = 0.5
    while True:
        try:
            await _session(connect)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("listen_disconnected", error=str(exc), retry_in_s=delay)
        if _state.live:
            delay = 0.5  # it was up: the first retry comes soon
        _reset()
        await asyncio.sleep(delay)
        delay = min(RECONNECT_MAX_S, delay * 2)


def start(connect: Callable[[], Awaitable[psycopg.AsyncConnection]]) -> None:
    """Start listening in the background (the app's lifespan calls this once)."""
    if _state.task is None and _state.subscriptions:
        _state.connect = connect
        _state.task = asyncio.create_task(_run(connect), name="mercato-listen")


def _passed(token: str) -> None:
    waiter = _state.barriers.pop(token, None)
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


async def barrier(timeout_s: float = 5.0) -> None:
    """Return once every notification committed before this call has been delivered.

    PostgreSQL delivers notifications in commit order, so a notification sent now arrives
    after all of them. For tests and for anything that must see its own writes' effects.
    """
    if _state.connect is None or not await wait_live(timeout_s):
        raise RuntimeError("notifications are not being received")
    token = uuid.uuid4().hex
    waiter = _state.barriers[token] = asyncio.get_running_loop().create_future()
    try:
        async with await _state.connect() as conn:
            await conn.execute("SELECT pg_notify(%s, %s)", (BARRIER_CHANNEL, token))
        await asyncio.wait_for(waiter, timeout_s)
    finally:
        _state.barriers.pop(token, None)


async def stop() -> None:
    task, _state.task = _state.task, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    _reset()


async def wait_live(timeout_s: float = 5.0) -> bool:
    """Wait until notifications flow (tests and start-up checks); False on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not _state.live:
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True
