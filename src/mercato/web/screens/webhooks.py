"""Settings → Webhooks: endpoints, their signing secrets (shown once), tests and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi.responses import HTMLResponse

from mercato.kernel.errors import DomainError
from mercato.kernel.permissions import Permission
from mercato.modules import webhooks
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "settings/webhooks"
DELIVERIES_PAGE = 25

SCREENS = [
    Screen("settings.webhooks", "Webhooks", PATH, Permission.WEBHOOKS_READ, Section.settings, 25)
]

Writer = Annotated[Page, tenant_page(Permission.WEBHOOKS_WRITE)]


def _event_types(raw: str) -> list[str]:
    """One event type per line or comma (`order.created`); none means every event."""
    return [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]


def _endpoint_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    return {
        "url": submitted.get("url", "").strip(),
        "description": submitted.get("description", "").strip() or None,
        "event_types": _event_types(submitted.get("event_types", "")),
    }


async def _render(
    page: Page,
    *,
    create: FormState | None = None,
    problem: FormState | None = None,
    secret: tuple[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page.render(
        "screens/webhooks.html",
        fragment="screens/_webhooks.html",
        status_code=status_code,
        endpoints=await webhooks.list_endpoints(page.session, page.member),
        create=create or FormState(),
        problem=problem or FormState(),
        secret=secret,
        notice=notice,
    )


@router.get("/" + PATH)
async def webhooks_screen(
    page: Annotated[Page, tenant_page(Permission.WEBHOOKS_READ)],
) -> HTMLResponse:
    return await _render(page)


@router.post("/" + PATH)
async def create_webhook(page: Writer) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def create() -> tuple[str, str]:
        body = parse(webhooks.WebhookCreate, _endpoint_body(submitted))
        endpoint, raw = await webhooks.create_endpoint(page.session, page.member, body, page.meta)
        return endpoint.url, raw

    created = await page.act(form, submitted, create)
    if created is None:
        return await _render(page, create=form, status_code=form_status(form))
    return await _render(page, secret=created)


async def _endpoint_action(page: Page, action: Callable[[], Awaitable[str]]) -> HTMLResponse:
    """Run a one-button action on an endpoint; its outcome is the notice or the problem."""
    submitted, form = await read_form(page.request)
    notice = await page.act(form, submitted, action)
    if notice is None:
        return await _render(page, problem=form, status_code=form_status(form))
    return await _render(page, notice=notice)


@router.post("/" + PATH + "/{webhook_id}/status")
async def set_webhook_status(webhook_id: uuid.UUID, page: Writer) -> HTMLResponse:
    wanted = (await page.request.form()).get("status")

    async def switch() -> str:
        body = parse(webhooks.WebhookUpdate, {"status": wanted})
        endpoint = await webhooks.update_endpoint(
            page.session, page.member, webhook_id, body, page.meta
        )
        return f"{endpoint.url} is {endpoint.status}."

    return await _endpoint_action(page, switch)


@router.post("/" + PATH + "/{webhook_id}/test")
async def test_webhook(webhook_id: uuid.UUID, page: Writer) -> HTMLResponse:
    async def ping() -> str:
        await webhooks.send_test(page.session, page.member, webhook_id)
        return "A webhook.ping delivery is queued; see its outcome under Deliveries."

    return await _endpoint_action(page, ping)


@router.post("/" + PATH + "/{webhook_id}/delete")
async def delete_webhook(webhook_id: uuid.UUID, page: Writer) -> HTMLResponse:
    async def delete() -> str:
        await webhooks.delete_endpoint(page.session, page.member, webhook_id, page.meta)
        return "The endpoint is deleted; nothing more is sent to it."

    return await _endpoint_action(page, delete)


@router.post("/" + PATH + "/{webhook_id}/rotate-secret")
async def rotate_webhook_secret(webhook_id: uuid.UUID, page: Writer) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def rotate() -> tuple[str, str]:
        endpoint, raw = await webhooks.rotate_secret(
            page.session, page.member, webhook_id, page.meta
        )
        return endpoint.url, raw

    rotated = await page.act(form, submitted, rotate)
    if rotated is None:
        return await _render(page, problem=form, status_code=form_status(form))
    return await _render(page, secret=rotated)


@router.get("/" + PATH + "/{webhook_id}")
async def webhook_deliveries(
    webhook_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.WEBHOOKS_READ)]
) -> HTMLResponse:
    cursor = page.request.query_params.get("cursor") or None
    endpoint = await webhooks.get_endpoint(page.session, page.member, webhook_id)
    form = FormState()
    deliveries: list[Any] = []
    next_cursor: str | None = None
    try:
        deliveries, next_cursor = await webhooks.list_deliveries(
            page.session, page.member, webhook_id, limit=DELIVERIES_PAGE, cursor=cursor
        )
    except DomainError as error:
        form.show(error)
    return page.render(
        "screens/webhook_deliveries.html",
        status_code=form_status(form),
        endpoint=endpoint,
        deliveries=deliveries,
        next_cursor=next_cursor,
        form=form,
        back=page.url(PATH),
    )
