"""Task lists for sales reps: computed from events, scoped to the caller's locations, with
the status reps set.

Who sees what: members with the `sales_rep` role see only items at the locations their
sales-rep record looks after. A staff user is linked to a sales-rep record of the master
data by e-mail address (case-insensitive); a rep without such a record sees nothing.
Managers and above (and API keys) see every location. Items are assigned to the reps
that look after the item's location.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import NotFound, ValidationFailed, field_error
from mercato.kernel.pagination import encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.identity import staff_email
from mercato.modules.insights import lists
from mercato.modules.insights.cache import cached_candidates
from mercato.modules.insights.lists import Candidate, Tuning
from mercato.modules.insights.models import TaskStatus
from mercato.modules.insights.schemas import (
    AssignedRep,
    StatusFilter,
    TaskItem,
    TaskList,
    TaskPage,
    TaskState,
    TaskStatusRead,
    TaskStatusUpdate,
)
from mercato.modules.masterdata import list_sales_reps


async def _caller_email(session: AsyncSession, principal: Principal) -> str | None:
    if principal.user_id is None:
        return None
    return await staff_email(session, principal.user_id)


async def _reps_by_location(
    session: AsyncSession, principal: Principal
) -> tuple[dict[str, list[AssignedRep]], dict[str, list[str]], dict[str, str]]:
    """Reps per location code, location codes per rep id, rep id per lower-cased e-mail."""
    by_location: dict[str, list[AssignedRep]] = {}
    by_rep: dict[str, list[str]] = {}
    by_email: dict[str, str] = {}
    for rep, codes in await list_sales_reps(session, principal):
        assigned = AssignedRep(rep_id=rep.rep_id, name=rep.name, email=rep.email)
        by_rep[rep.rep_id] = codes
        if rep.email:
            by_email[rep.email.lower()] = rep.rep_id
        for code in codes:
            by_location.setdefault(code, []).append(assigned)
    return by_location, by_rep, by_email


async def visible_locations(session: AsyncSession, principal: Principal) -> set[str] | None:
    """The location codes a caller may see tasks of; None means every location."""
    if principal.role != "sales_rep":
        return None
    _, by_rep, by_email = await _reps_by_location(session, principal)
    email = await _caller_email(session, principal)
    rep_id = by_email.get(email.lower()) if email else None
    return set(by_rep.get(rep_id, [])) if rep_id else set()


async def _statuses(
    session: AsyncSession, tenant_id: uuid.UUID, name: TaskList
) -> dict[str, TaskStatus]:
    rows = await session.scalars(
        select(TaskStatus).where(TaskStatus.tenant_id == tenant_id, TaskStatus.list_name == name)
    )
    return {row.task_key: row for row in rows}


def _state(stored: TaskStatus | None, now: datetime) -> tuple[TaskState, datetime | None]:
    if stored is None:
        return TaskState.open, None
    if stored.status == TaskState.snoozed and stored.snoozed_until and stored.snoozed_until <= now:
        return TaskState.open, None
    return TaskState(stored.status), stored.snoozed_until


async def _items(
    session: AsyncSession,
    principal: TenantPrincipal,
    name: TaskList,
    tuning: Tuning,
    *,
    read: AsyncSession,
    fresh: bool = False,
) -> list[TaskItem]:
    tenant_id = principal.tenant_id

    async def compute() -> list[Candidate]:
        return await lists.LISTS[name.value](read, tenant_id, tuning)

    candidates = await cached_candidates(tenant_id, name.value, tuning, compute, fresh=fresh)
    by_location, _, _ = await _reps_by_location(session, principal)
    statuses = await _statuses(session, principal.tenant_id, name)
    users = sorted({c.user_id for c in candidates if c.user_id})
    emails = await lists.contacts(read, principal.tenant_id, users)
    items = []
    for c in candidates:
        state, until = _state(statuses.get(c.key), tuning.now)
        items.append(
            TaskItem(
                key=c.key,
                task_list=name,
                user_id=c.user_id,
                contact=emails.get(c.user_id) if c.user_id else None,
                products=c.products,
                amount=c.amount,
                location_code=c.location_code,
                sales_reps=by_location.get(c.location_code, []),
                reason=c.reason,
                status=state,
                snoozed_until=until,
                occurred_at=c.occurred_at,
                details=c.details,
            )
        )
    return items


async def list_tasks(
    session: AsyncSession,
    principal: TenantPrincipal,
    name: TaskList,
    *,
    location: str | None = None,
    rep: str | None = None,
    status: StatusFilter = StatusFilter.open,
    limit: int = 50,
    cursor: str | None = None,
    tuning: Tuning | None = None,
    fresh: bool = False,
    read: AsyncSession | None = None,
) -> TaskPage:
    """One task list, filtered by location, rep and status, paginated (newest/most valuable
    first, as each list ranks). Candidates may be up to a minute old (`insights.cache`);
    `fresh` recomputes them.

    `read` (default `session`) computes the candidates from events: a replica's read
    session may. Statuses, reps and who may see what always come from `session`, so a
    status just set shows at once.
    """
    principal.require(Permission.TASKS_READ)
    tuning = tuning or Tuning(now=datetime.now(UTC))
    offset = read_cursor(cursor, lambda value: int(value["o"])) or 0
    if offset < 0:
        offset = 0
    allowed = await visible_locations(session, principal)
    items = await _items(session, principal, name, tuning, read=read or session, fresh=fresh)
    rep_codes: set[str] | None = None
    if rep is not None:
        _, by_rep, _ = await _reps_by_location(session, principal)
        rep_codes = set(by_rep.get(rep, []))
    selected = [
        item
        for item in items
        if (allowed is None or item.location_code in allowed)
        and (location is None or item.location_code == location)
        and (rep_codes is None or item.location_code in rep_codes)
        and (status is StatusFilter.all or item.status.value == status.value)
    ]
    page = selected[offset : offset + limit]
    more = offset + limit < len(selected)
    return TaskPage(data=page, next_cursor=encode_cursor({"o": offset + limit}) if more else None)


async def set_status(
    session: AsyncSession,
    principal: TenantPrincipal,
    name: TaskList,
    body: TaskStatusUpdate,
    *,
    now: datetime | None = None,
) -> TaskStatusRead:
    """Mark an item done, snoozed (until a time) or open again.

    The item must be in the list as the caller sees it (404 otherwise), so a rep cannot
    change items of other locations.
    """
    principal.require(Permission.TASKS_WRITE)
    now = now or datetime.now(UTC)
    if body.status is TaskState.snoozed and (
        body.snoozed_until is None or body.snoozed_until <= now
    ):
        raise ValidationFailed(
            "Snoozing needs a future `snoozed_until`",
            errors=[field_error("snoozed_until", "must be a time in the future")],
        )
    visible = await list_tasks(
        session,
        principal,
        name,
        status=StatusFilter.all,
        limit=10_000,
        tuning=Tuning(now=now),
    )
    if body.key not in {item.key for item in visible.data}:
        raise NotFound("No such item in this task list")
    until = body.snoozed_until if body.status is TaskState.snoozed else None
    values = {
        "tenant_id": principal.tenant_id,
        "list_name": name.value,
        "task_key": body.key,
        "status": body.status.value,
        "snoozed_until": until,
        "updated_by": principal.actor,
    }
    stored = await session.scalar(
        insert(TaskStatus)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["tenant_id", "list_name", "task_key"],
            set_={
                "status": body.status.value,
                "snoozed_until": until,
                "updated_by": principal.actor,
                "updated_at": now,
            },
        )
        .returning(TaskStatus)
    )
    assert stored is not None
    return TaskStatusRead(
        task_list=name,
        key=stored.task_key,
        status=TaskState(stored.status),
        snoozed_until=stored.snoozed_until,
        updated_by=stored.updated_by,
        updated_at=stored.updated_at,
    )
