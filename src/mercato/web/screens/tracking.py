"""Insights → Tracking: which days have events (calendar), GA4 freshness per day with a
banner while the data is stale (also an overview panel), import jobs (GA4 files,
BigQuery, SFTP), the event explorer and one shopper's timeline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, get_args

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import DomainError, ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules import tracking
from mercato.modules.tracking import (
    EventRead,
    EventType,
    IngestJobCreate,
    IngestJobRead,
    Timeline,
)
from mercato.web.charts import bar_chart
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
PATH = "tracking"
EVENTS = "events"
CALENDAR_WEEKS = 6
FRESHNESS_DAYS = 7
EVENTS_PAGE = 50

SCREENS = [
    Screen("insights.tracking", "Tracking", PATH, Permission.EVENTS_READ, Section.insights, 40),
    Screen(
        "insights.events", "Event explorer", EVENTS, Permission.EVENTS_READ, Section.insights, 45
    ),
]

Reader = Annotated[Page, tenant_page(Permission.EVENTS_READ)]
SOURCES = [
    ("ga4_file", "GA4 export files"),
    ("bigquery", "BigQuery (GA4 export)"),
    ("sftp", "SFTP"),
]
TYPES = [("", "Any type"), *((name, name.replace("_", " ")) for name in get_args(EventType))]


def _day(raw: str, name: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        message = "a date like 2026-11-30"
        raise ValidationFailed(message, errors=[field_error(name, message)]) from None


def _heat(count: int, top: int) -> int:
    """0 for no events, then 1 to 4 by the share of the busiest day."""
    if count <= 0 or top <= 0:
        return 0
    return min(4, 1 + int(3 * count / top))


def _calendar(start: date, end: date, counts: Mapping[date, int]) -> list[list[dict[str, Any]]]:
    """Whole weeks (Monday first) covering [start, end]; days outside the range are blank."""
    first = start - timedelta(days=start.weekday())
    top = max(counts.values(), default=0)
    weeks: list[list[dict[str, Any]]] = []
    day = first
    while day <= end:
        week = []
        for _ in range(7):
            inside = start <= day <= end
            count = counts.get(day, 0)
            week.append({"day": day, "inside": inside, "count": count, "heat": _heat(count, top)})
            day += timedelta(days=1)
        weeks.append(week)
    return weeks


async def _render(
    page: Page,
    *,
    create: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    params = page.request.query_params
    form = FormState(values={k: params[k] for k in ("start", "end") if params.get(k)})
    today = datetime.now(UTC).date()
    end = today
    start = today - timedelta(days=today.weekday() + 7 * (CALENDAR_WEEKS - 1))
    days: list[Any] = []
    try:
        end = _day(params.get("end", ""), "end") or end
        start = _day(params.get("start", ""), "start") or start
        availability = await tracking.availability(page.session, page.member, start=start, end=end)
        days = availability.days
    except DomainError as error:
        form.show(error)
        status_code = error.status
    counts = {row.day: row.events for row in days}
    jobs, _ = await tracking.list_jobs(page.session, page.member, limit=20, cursor=None)
    return page.render(
        "screens/tracking.html",
        fragment="screens/_tracking.html",
        status_code=status_code,
        form=form,
        start=start,
        end=end,
        weeks=_calendar(start, end, counts) if not form.failed else [],
        days={row.day: row for row in days},
        total=sum(counts.values()),
        chart=bar_chart(
            [(row.day.strftime("%m-%d"), float(row.events)) for row in days],
            title="Events per day",
        ),
        jobs=[IngestJobRead.model_validate(job) for job in jobs],
        freshness=await tracking.ga4_freshness(page.session, page.tenant_id, days=FRESHNESS_DAYS),
        create=create or FormState(values={"source": "ga4_file"}),
        sources=SOURCES,
        notice=notice,
    )


@router.get("/" + PATH)
async def tracking_screen(page: Reader) -> HTMLResponse:
    return await _render(page)


def _job_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    body = {name: submitted.get(name, "").strip() for name in ("source", "start", "end", "path")}
    return {name: value for name, value in body.items() if value}


@router.post("/" + PATH + "/imports")
async def request_import(
    page: Annotated[Page, tenant_page(Permission.EVENTS_IMPORT)],
) -> HTMLResponse:
    """Queue an import, as `POST {T}/ingest/jobs` does."""
    submitted, form = await read_form(page.request)

    async def queue() -> str:
        body = parse(IngestJobCreate, _job_body(submitted))
        job = await tracking.request_import(page.session, page.member, body)
        return f"The {job.source.replace('_', ' ')} import is queued."

    notice = await page.act(form, submitted, queue)
    if notice is None:
        return await _render(page, create=form, status_code=form_status(form))
    return await _render(page, notice=notice)


# Event explorer and timeline --------------------------------------------------------------


def _moment(day: date | None, *, end: bool = False) -> datetime | None:
    """The start of `day` (UTC), or for an `end` date the start of the next day."""
    if day is None:
        return None
    if end and day == date.max:
        return datetime.combine(day, time.max, UTC)
    return datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)


@router.get("/" + EVENTS)
async def events_screen(page: Reader) -> HTMLResponse:
    params = page.request.query_params
    names = ("user_id", "type", "start", "end")
    form = FormState(values={name: params[name] for name in names if params.get(name)})
    events: list[EventRead] = []
    next_cursor: str | None = None
    try:
        chosen = params.get("type") or None
        if chosen is not None and chosen not in get_args(EventType):
            message = "one of the event types in the list"
            raise ValidationFailed(message, errors=[field_error("type", message)])
        events, next_cursor = await tracking.list_events(
            page.session,
            page.member,
            user_id=params.get("user_id", "").strip()[:256] or None,
            type=chosen,
            start=_moment(_day(params.get("start", ""), "start")),
            end=_moment(_day(params.get("end", ""), "end"), end=True),
            limit=EVENTS_PAGE,
            cursor=params.get("cursor") or None,
        )
    except DomainError as error:
        form.show(error)
    return page.render(
        "screens/events.html",
        fragment="screens/_events.html",
        status_code=form_status(form),
        form=form,
        events=events,
        next_cursor=next_cursor,
        first_page=not params.get("cursor"),
        types=TYPES,
    )


@router.get("/" + EVENTS + "/users/{user_id}")
async def timeline_screen(user_id: str, page: Reader) -> HTMLResponse:
    cursor = page.request.query_params.get("cursor") or None
    form = FormState()
    timeline = Timeline(user_id=user_id, sessions=[])
    try:
        timeline = await tracking.user_timeline(
            page.session, page.member, user_id, limit=200, cursor=cursor
        )
    except DomainError as error:
        form.show(error)
    return page.render(
        "screens/timeline.html",
        status_code=form_status(form),
        timeline=timeline,
        form=form,
        back=page.url(EVENTS),
    )


async def _freshness_panel(session: AsyncSession, principal: TenantPrincipal) -> dict[str, Any]:
    return {
        "freshness": await tracking.ga4_freshness(
            session, principal.tenant_id, days=FRESHNESS_DAYS
        ),
        "url": f"/app/t/{principal.tenant_id}/{PATH}",
    }


PANELS = [
    OverviewPanel(
        "ga4_freshness",
        "GA4 data",
        Permission.EVENTS_READ,
        "panels/ga4_freshness.html",
        _freshness_panel,
        order=5,
    )
]
