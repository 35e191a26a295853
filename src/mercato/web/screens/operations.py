"""Insights → Feedback (summary and latest comments) and Marketing → Content pages (list,
create; what the storefront shows under `/public/pages`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi.responses import HTMLResponse

from mercato.kernel.permissions import Permission
from mercato.modules import content, feedback
from mercato.modules.content import PageCreate
from mercato.modules.feedback import FeedbackRead
from mercato.web.charts import bar_chart
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
FEEDBACK = "feedback"
PAGES = "content/pages"

SCREENS = [
    Screen(
        "insights.feedback", "Feedback", FEEDBACK, Permission.FEEDBACK_READ, Section.insights, 50
    ),
    Screen(
        "marketing.pages", "Content pages", PAGES, Permission.CONTENT_READ, Section.marketing, 40
    ),
]
STATUSES = [("draft", "Draft"), ("published", "Published"), ("archived", "Archived")]


@router.get("/" + FEEDBACK)
async def feedback_screen(
    page: Annotated[Page, tenant_page(Permission.FEEDBACK_READ)],
) -> HTMLResponse:
    summary = await feedback.summarise_feedback(
        page.session, page.member, start=None, end=None, category=None
    )
    rows, _ = await feedback.list_feedback(
        page.session, page.member, category=None, rating=None, limit=20, cursor=None
    )
    return page.render(
        "screens/feedback.html",
        summary=summary,
        latest=[FeedbackRead.model_validate(row) for row in rows],
        weekly=bar_chart(
            [(week.week_start.strftime("%m-%d"), float(week.count)) for week in summary.by_week],
            title="Feedback per week",
        ),
        ratings=[(str(n), summary.distribution.get(str(n), 0)) for n in range(5, 0, -1)],
    )


def _page_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    return {
        "slug": submitted.get("slug", "").strip(),
        "title": submitted.get("title", "").strip(),
        "body": submitted.get("body", ""),
        "status": submitted.get("status", "draft"),
    }


async def _render_pages(
    page: Page, *, form: FormState | None = None, notice: str | None = None, status_code: int = 200
) -> HTMLResponse:
    views, _ = await content.list_pages(
        page.session, page.member, status=None, limit=100, cursor=None
    )
    return page.render(
        "screens/content_pages.html",
        fragment="screens/_content_pages.html",
        status_code=status_code,
        views=views,
        form=form or FormState(values={"status": "draft"}),
        statuses=STATUSES,
        notice=notice,
    )


@router.get("/" + PAGES)
async def pages_screen(page: Annotated[Page, tenant_page(Permission.CONTENT_READ)]) -> HTMLResponse:
    return await _render_pages(page)


@router.post("/" + PAGES)
async def create_page(page: Annotated[Page, tenant_page(Permission.CONTENT_WRITE)]) -> HTMLResponse:
    """Create a page, as `POST {T}/content/pages` does (audited by the service)."""
    submitted, form = await read_form(page.request)

    async def create() -> str:
        body = parse(PageCreate, _page_body(submitted))
        view = await content.create_page(page.session, page.member, body, page.meta)
        return f"“{view.page.title}” is created ({view.page.status})."

    notice = await page.act(form, submitted, create)
    if notice is None:
        return await _render_pages(page, form=form, status_code=form_status(form))
    return await _render_pages(page, notice=notice)
