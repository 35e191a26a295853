"""Insights → Reports: who receives each branch's report, when reports go out, send now,
and the history of sent reports with each recipient's delivery status."""

from __future__ import annotations

from typing import Annotated

from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from mercato.kernel.errors import DomainError, ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.modules.locations import list_locations
from mercato.modules.reports import (
    BranchRecipientsWrite,
    Frequency,
    Period,
    ReportSend,
    ScheduleWrite,
    list_branches,
    list_jobs,
    list_schedules,
    put_schedule,
    request_send,
    set_branch_recipients,
)
from mercato.web.forms import FormState, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "reports"
SCREENS = [
    Screen("insights.reports", "Reports", PATH, Permission.REPORTS_READ, Section.insights, 20)
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


async def _render(
    page: Page,
    *,
    notice: str | None = None,
    form: FormState | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    schedules = {s.frequency: s for s in await list_schedules(page.session, page.member)}
    branches = await list_branches(page.session, page.member)
    locations = await list_locations(page.session)
    return page.render(
        "screens/reports.html",
        fragment="screens/_reports.html",
        status_code=status_code,
        branches=branches,
        locations=locations,
        location_options=[(loc.code, f"{loc.name} ({loc.code})") for loc in locations],
        branch_options=[("", "All branches")]
        + [(b.location_code, b.location_code) for b in branches],
        weekday_options=[("", "—")] + [(str(i), name) for i, name in enumerate(WEEKDAYS)],
        schedules=schedules,
        jobs=(await list_jobs(page.session, page.member, limit=20)).data,
        weekdays=WEEKDAYS,
        notice=notice,
        form=form or FormState(),
    )


@router.get("/" + PATH)
async def reports_screen(
    page: Annotated[Page, tenant_page(Permission.REPORTS_READ)],
) -> HTMLResponse:
    return await _render(page)


@router.post("/" + PATH + "/branches")
async def save_branch(page: Annotated[Page, tenant_page(Permission.REPORTS_WRITE)]) -> HTMLResponse:
    submitted, form = await read_form(page.request)
    emails = [e.strip() for e in submitted.get("recipients", "").replace(",", "\n").splitlines()]

    async def save() -> str:
        body = parse(BranchRecipientsWrite, {"recipients": [e for e in emails if e]})
        saved = await set_branch_recipients(
            page.session,
            page.member,
            submitted.get("location_code", ""),
            [str(e) for e in body.recipients],
        )
        return saved.location_code

    code = await page.act(form, submitted, save)
    if code is None:
        return await _render(page, form=form, status_code=form.status)
    return await _render(page, notice=f"Recipients of {code} saved.")


@router.post("/" + PATH + "/schedules")
async def save_schedule(
    page: Annotated[Page, tenant_page(Permission.REPORTS_WRITE)],
) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def save() -> str:
        try:
            frequency = Frequency(submitted.get("frequency", "daily"))
        except ValueError:
            message = "choose daily or weekly"
            raise ValidationFailed(message, errors=[field_error("frequency", message)]) from None
        fields = {"hour": submitted.get("hour", ""), "enabled": submitted.get("enabled") == "on"}
        if frequency is Frequency.weekly and submitted.get("weekday"):
            fields["weekday"] = submitted["weekday"]
        body = parse(ScheduleWrite, fields)
        await put_schedule(page.session, page.member, frequency, body)
        return frequency.value

    saved = await page.act(form, submitted, save)
    if saved is None:
        return await _render(page, form=form, status_code=form.status)
    return await _render(page, notice=f"The {saved} schedule is saved.")


@router.post("/" + PATH + "/send")
async def send_now(page: Annotated[Page, tenant_page(Permission.REPORTS_WRITE)]) -> HTMLResponse:
    submitted, form = await read_form(page.request)
    try:
        body = ReportSend(
            location_code=submitted.get("location_code") or None,
            period=Period(submitted.get("period", "week")),
        )
        job = await request_send(page.session, page.member, body)
    except (DomainError, ValidationError, ValueError) as problem:
        form.message = problem.detail if isinstance(problem, DomainError) else "Not a valid request"
        return await _render(page, form=form, status_code=422)
    return await _render(page, notice=f"Report job {job.id} queued; it appears below when sent.")
