"""Insights → Tasks: the four sales-rep lists with filters, inline status and CSV download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi.responses import HTMLResponse, Response

from mercato.kernel.db import get_database
from mercato.kernel.errors import DomainError
from mercato.kernel.permissions import Permission
from mercato.modules.insights import (
    StatusFilter,
    TaskList,
    TaskPage,
    TaskState,
    TaskStatusUpdate,
    list_tasks,
    set_status,
    tasks_csv,
)
from mercato.modules.locations import list_locations
from mercato.modules.tracking import user_timeline
from mercato.web.forms import read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "tasks"
SCREENS = [Screen("insights.tasks", "Tasks", PATH, Permission.TASKS_READ, Section.insights, 10)]
TITLES = {
    TaskList.purchase_followups: "Purchase follow-ups",
    TaskList.cart_abandonment: "Abandoned carts",
    TaskList.search_gaps: "Search gaps",
    TaskList.repeat_visitors: "Repeat visitors",
}
SNOOZE = timedelta(days=7)


def _filters(page: Page) -> dict[str, Any]:
    query = page.request.query_params
    try:
        chosen = TaskList(query.get("list", TaskList.cart_abandonment.value))
    except ValueError:
        chosen = TaskList.cart_abandonment
    try:
        status = StatusFilter(query.get("status", "open"))
    except ValueError:
        status = StatusFilter.open
    return {
        "list": chosen,
        "status": status,
        "location": query.get("location") or None,
        "rep": query.get("rep") or None,
        "cursor": query.get("cursor") or None,
    }


async def _page(page: Page, filters: dict[str, Any], limit: int = 50) -> TaskPage:
    async with get_database().read_following(page.session) as read:
        return await list_tasks(
            page.session,
            page.member,
            filters["list"],
            location=filters["location"],
            rep=filters["rep"],
            status=filters["status"],
            limit=limit,
            cursor=filters["cursor"],
            read=read,
        )


async def _render(
    page: Page, *, notice: str | None = None, error: str | None = None
) -> HTMLResponse:
    filters = _filters(page)
    try:
        tasks = await _page(page, filters)
    except DomainError as problem:
        tasks, error = TaskPage(data=[]), problem.detail
    return page.render(
        "screens/tasks.html",
        fragment="screens/_tasks.html",
        tasks=tasks,
        filters=filters,
        titles=TITLES,
        locations=await list_locations(page.session),
        statuses=[s.value for s in StatusFilter],
        notice=notice,
        error=error,
    )


@router.get("/" + PATH)
async def tasks_screen(page: Annotated[Page, tenant_page(Permission.TASKS_READ)]) -> HTMLResponse:
    return await _render(page)


@router.post("/" + PATH + "/status")
async def change_status(page: Annotated[Page, tenant_page(Permission.TASKS_WRITE)]) -> HTMLResponse:
    """Mark an item done, snooze it for a week, or open it again (from a row's buttons)."""
    submitted, _ = await read_form(page.request)
    try:
        chosen = TaskList(submitted.get("list", ""))
        state = TaskState(submitted.get("status", ""))
    except ValueError:
        return await _render(page, error="Unknown task list or status")
    until = datetime.now(UTC) + SNOOZE if state is TaskState.snoozed else None
    try:
        body = TaskStatusUpdate(key=submitted.get("key", ""), status=state, snoozed_until=until)
        await set_status(page.session, page.member, chosen, body)
    except (DomainError, ValueError) as problem:
        detail = problem.detail if isinstance(problem, DomainError) else "Not a valid item"
        return await _render(page, error=detail)
    return await _render(page, notice=f"Marked {state.value}.")


@router.get("/" + PATH + "/users/{user_id}")
async def shopper_history(
    user_id: str, page: Annotated[Page, tenant_page(Permission.EVENTS_READ)]
) -> HTMLResponse:
    """A shopper's sessions and events, newest first (tracking's timeline)."""
    timeline = await user_timeline(
        page.session, page.member, user_id[:256], cursor=page.request.query_params.get("cursor")
    )
    return page.render("screens/shopper.html", timeline=timeline)


@router.get("/" + PATH + "/export.csv")
async def export_tasks(page: Annotated[Page, tenant_page(Permission.TASKS_READ)]) -> Response:
    filters = {**_filters(page), "cursor": None}
    tasks = await _page(page, filters, limit=10_000)
    assert page.tenant is not None
    return Response(
        tasks_csv(tasks, page.tenant.formats),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filters["list"].value}.csv"'},
    )
