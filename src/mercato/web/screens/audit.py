"""Settings → Audit log: filter by action, actor, target and dates; page back in time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import DomainError, ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.audit import list_entries
from mercato.modules.identity import list_members
from mercato.web.forms import FormState
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
PATH = "settings/audit"
PAGE_SIZE = 25
ACTIVITY_DAYS = 14
ACTIVITY_SCAN_LIMIT = 2_000  # entries read to draw the activity chart

SCREENS = [Screen("settings.audit", "Audit log", PATH, Permission.AUDIT_READ, Section.settings, 30)]


@dataclass(frozen=True)
class AuditFilters:
    action: str | None
    actor: str | None
    target: str | None
    since: datetime | None
    until: datetime | None


def _day(field: str, raw: str | None, *, end_of_day: bool) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError as invalid:
        message = "use a date like 2026-01-31"
        raise ValidationFailed(message, errors=[field_error(field, message)]) from invalid
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end_of_day else moment


def read_filters(query: Mapping[str, str]) -> AuditFilters:
    """The filter form's values; dates are whole UTC days, `until` inclusive."""
    return AuditFilters(
        action=query.get("action", "").strip() or None,
        actor=query.get("actor", "").strip() or None,
        target=query.get("target", "").strip() or None,
        since=_day("since", query.get("since"), end_of_day=False),
        until=_day("until", query.get("until"), end_of_day=True),
    )


async def people(session: AsyncSession, principal: Principal) -> dict[str, str]:
    """`user:<id>` → a readable name, for the members this viewer may list."""
    if not principal.can(Permission.MEMBERS_READ):
        return {}
    return {
        f"user:{m.user_id}": f"{m.name} <{m.email}>"
        for m in await list_members(session, principal)
        if m.user_id is not None
    }


@router.get("/" + PATH)
async def audit_screen(page: Annotated[Page, tenant_page(Permission.AUDIT_READ)]) -> HTMLResponse:
    query = dict(page.request.query_params)
    form = FormState(values={k: v for k, v in query.items() if k != "cursor"})
    try:
        filters = read_filters(query)
        entries, next_cursor = await list_entries(
            page.session,
            page.member,
            action=filters.action,
            actor=filters.actor,
            target=filters.target,
            since=filters.since,
            until=filters.until,
            limit=PAGE_SIZE,
            cursor=query.get("cursor") or None,
        )
    except DomainError as error:
        form.show(error)
        entries, next_cursor = [], None
    return page.render(
        "screens/audit.html",
        fragment="screens/_audit_results.html",
        status_code=422 if form.failed else 200,
        form=form,
        entries=entries,
        next_cursor=next_cursor,
        people=await people(page.session, page.member),
        first_page=not query.get("cursor"),
    )


async def _activity(session: AsyncSession, principal: Principal) -> Mapping[str, Any]:
    """Changes per day over the last two weeks, and the latest few."""
    today = datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=ACTIVITY_DAYS - 1), time.min, tzinfo=UTC)
    per_day: Counter[date] = Counter()
    rows, cursor = await list_entries(session, principal, since=start, limit=500)
    latest = rows[:5]
    scanned = 0
    while True:
        per_day.update(row.created_at.astimezone(UTC).date() for row in rows)
        scanned += len(rows)
        if cursor is None or scanned >= ACTIVITY_SCAN_LIMIT:
            break
        rows, cursor = await list_entries(session, principal, since=start, limit=500, cursor=cursor)
    days = [today - timedelta(days=offset) for offset in range(ACTIVITY_DAYS - 1, -1, -1)]
    return {
        "series": [(day.strftime("%d %b"), float(per_day[day])) for day in days],
        "total": sum(per_day.values()),
        "capped": cursor is not None,
        "latest": latest,
        "people": await people(session, principal),
        "url": f"/app/t/{principal.tenant_id}/{PATH}",
    }


PANELS = [
    OverviewPanel(
        "activity",
        "Recent changes",
        Permission.AUDIT_READ,
        "panels/activity.html",
        _activity,
        order=70,
    )
]
