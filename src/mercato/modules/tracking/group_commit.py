"""Group commit: events from concurrent API requests share one transaction and one commit.

A commit costs a round trip and a WAL flush whatever it holds, so one commit per single
event caps a process near the rate at which PostgreSQL flushes. Here each request hands
its checked rows to the process's `GroupCommit` and awaits the commit that holds them:
a 202 still means the event is in PostgreSQL. Up to `writers` commits are in flight at
once (so large batches still use several PostgreSQL backends); while they all are, the
next requests queue, and the next commit takes all of them (up to `max_events`), so
commits grow with the load and cost nothing extra when it is light; `window_s`
optionally holds the first queued event back a little to gather more.

Tenant isolation holds inside a shared transaction: each tenant's rows are written by
their own statement after `scope_transaction` sets `app.tenant_id` to that tenant (a
`SET LOCAL` that lasts until the next one), so row-level security checks every row
against its own tenant. Tenants are written in id order and keys in key order, so two
processes' commits never wait on each other in a cycle.

A commit that fails fails every request in it (each gets the error as a problem+json;
nothing of theirs was stored), except that a commit holding several requests that fails
for a reason other than the database being unreachable is retried request by request,
so one request whose rows PostgreSQL refuses cannot fail the others.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass

import psycopg
from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from mercato.kernel.db import get_database, scope_transaction, unit_of_work
from mercato.kernel.errors import DomainError, ServiceUnavailable
from mercato.kernel.logging import get_logger
from mercato.modules.tracking import counters
from mercato.modules.tracking.event_writer import commit_few, fits_one_round_trip, store_rows
from mercato.modules.tracking.listeners import notify_stored
from mercato.modules.tracking.validation import EventRow
from mercato.settings import get_settings

log = get_logger("mercato.tracking.group_commit")

COMMITS = Counter(
    "mercato_event_group_commits_total", "Transactions that stored API events (group commits)."
)
COMMITTED_REQUESTS = Counter(
    "mercato_event_group_commit_requests_total",
    "API requests whose events were stored by a group commit (÷ commits = requests per commit).",
)


@dataclass(eq=False)
class _Submission:
    """One request's checked rows, waiting for (accepted, duplicates)."""

    tenant_id: uuid.UUID
    rows: list[EventRow]
    done: asyncio.Future[tuple[int, int]]


class GroupCommit:
    """Queues requests' rows and stores them in shared transactions, `writers` at a time."""

    def __init__(self, *, max_events: int, window_s: float, writers: int) -> None:
        self.max_events = max_events
        self.window_s = window_s
        self.writers = writers
        self._pending: deque[_Submission] = deque()
        self._writing: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def store(self, tenant_id: uuid.UUID, rows: list[EventRow]) -> tuple[int, int]:
        """Store `rows` for the tenant in the next group commit: (accepted, duplicates).

        Returns once that commit succeeded; raises what made it fail.
        """
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): nothing pending belongs to it
            self._loop, self._pending, self._writing = loop, deque(), set()
        submission = _Submission(tenant_id, rows, loop.create_future())
        self._pending.append(submission)
        if len(self._writing) < self.writers:
            writer = loop.create_task(self._drain())
            self._writing.add(writer)
            writer.add_done_callback(self._writing.discard)
        return await submission.done

    async def _drain(self) -> None:
        while self._pending:
            if self.window_s and self._queued_events() < self.max_events:
                await asyncio.sleep(self.window_s)
                if not self._pending:  # another writer took them
                    return
            await self._commit(self._take())

    def _queued_events(self) -> int:
        return sum(len(s.rows) for s in self._pending)

    def _take(self) -> list[_Submission]:
        group = [self._pending.popleft()]
        size = len(group[0].rows)
        while self._pending and size + len(self._pending[0].rows) <= self.max_events:
            size += len(self._pending[0].rows)
            group.append(self._pending.popleft())
        return group

    async def _commit(self, group: list[_Submission]) -> None:
        try:
            results, stored = await _write(group)
        except asyncio.CancelledError:  # the process is stopping: no request waits forever
            for submission in [*group, *self._pending]:
                _settle(submission, error=_request_error(asyncio.CancelledError()))
            raise
        except Exception as exc:
            if len(group) > 1 and not _unreachable(exc):
                for submission in group:
                    await self._commit([submission])
                return
            log.warning("event_group_commit_failed", requests=len(group), error=repr(exc))
            for submission in group:
                _settle(submission, error=_request_error(exc))
            return
        COMMITS.inc()
        COMMITTED_REQUESTS.inc(len(group))
        # Counters and listeners hear of committed events only, before the 202s go out;
        # the events are stored whatever happens to them.
        bumped = await asyncio.gather(
            *(counters.bump(tenant, rows) for tenant, rows in stored.items()),
            notify_stored(dict(stored)),
            return_exceptions=True,
        )
        for failure in (b for b in bumped if isinstance(b, Exception)):
            log.error("event_counters_failed", error=repr(failure))
        for submission, result in zip(group, results, strict=True):
            _settle(submission, result=result)


async def _write(
    group: list[_Submission],
) -> tuple[list[tuple[int, int]], dict[uuid.UUID, list[EventRow]]]:
    """One transaction: each tenant's rows under its own scope; per-request outcomes."""
    by_tenant: dict[uuid.UUID, list[_Submission]] = {}
    for submission in group:
        by_tenant.setdefault(submission.tenant_id, []).append(submission)
    rows_by_tenant = {
        tenant_id: [row for s in submissions for row in s.rows]
        for tenant_id, submissions in by_tenant.items()
    }
    stored: dict[uuid.UUID, list[EventRow]]
    if all(map(fits_one_round_trip, rows_by_tenant.values())):  # single events, small batches
        stored = await commit_few(rows_by_tenant, source="api")
    else:
        stored = {}
        async with unit_of_work(get_database().sessionmaker) as session:
            for tenant_id in sorted(rows_by_tenant, key=lambda t: t.bytes):
                await scope_transaction(session, tenant_id)
                stored[tenant_id] = await store_rows(
                    session, tenant_id, rows_by_tenant[tenant_id], source="api"
                )
    if all(len(stored.get(t, ())) == len(rows) for t, rows in rows_by_tenant.items()):
        # Every row was new and no key came twice (the usual case): each request stored all.
        return [(len(s.rows), 0) for s in group], stored
    stored_keys = {tenant: {row.key for row in stored.get(tenant, ())} for tenant in by_tenant}
    claimed: set[tuple[uuid.UUID, bytes]] = set()
    results = []
    for submission in group:
        # The first request (in queue order) to carry a key is the one that stored it.
        mine = {row.key for row in submission.rows} - {
            key for tenant, key in claimed if tenant == submission.tenant_id
        }
        claimed.update((submission.tenant_id, key) for key in mine)
        accepted = len(mine & stored_keys[submission.tenant_id])
        results.append((accepted, len(submission.rows) - accepted))
    return results, stored


def _unreachable(exc: Exception) -> bool:
    """Whether the database could not be used at all (retrying alone would fail too)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | PoolTimeoutError | psycopg.OperationalError)


def _request_error(exc: BaseException) -> BaseException:
    """The error a request of a failed commit raises (the app turns it into problem+json).

    Errors the app already answers (refused values, an unreachable database, domain
    errors) are passed on; any other database error, or the process stopping, becomes a
    503: nothing was stored.
    """
    if isinstance(exc, DomainError | DBAPIError | PoolTimeoutError | psycopg.DataError):
        return exc
    if not isinstance(exc, psycopg.Error | asyncio.CancelledError):
        return exc  # a bug: the app's 500
    return ServiceUnavailable(
        "The events could not be stored; nothing was stored, retry",
        headers={"Retry-After": "1"},
    )


def _settle(
    submission: _Submission,
    *,
    result: tuple[int, int] | None = None,
    error: BaseException | None = None,
) -> None:
    if submission.done.done():  # the request went away (cancelled) meanwhile
        return
    if error is not None:
        submission.done.set_exception(error)
    else:
        assert result is not None
        submission.done.set_result(result)


_group_commit: GroupCommit | None = None


def group_commit() -> GroupCommit:
    """This process's group commit, configured from the settings."""
    global _group_commit
    if _group_commit is None:
        settings = get_settings()
        _group_commit = GroupCommit(
            max_events=settings.ingest_group_commit_max_events,
            window_s=settings.ingest_group_commit_window_ms / 1000,
            writers=settings.ingest_group_commit_writers,
        )
    return _group_commit
