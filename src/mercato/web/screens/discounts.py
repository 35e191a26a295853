"""Commerce → Discount codes: the list with uses, a form to create or change a code, and
a button to deactivate (or reactivate) one — the same service calls as `{T}/discounts`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from mercato.kernel.permissions import Permission
from mercato.modules.discounts import (
    CODE_PATTERN,
    DiscountRead,
    DiscountWrite,
    get_discount,
    list_discounts,
    put_discount,
)
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "discounts"
KINDS = [("percentage", "Percent off"), ("fixed", "Amount off")]
FIELDS = (
    "kind",
    "value",
    "currency",
    "min_order",
    "starts_at",
    "ends_at",
    "usage_limit",
    "per_customer_limit",
)

SCREENS = [
    Screen(
        "commerce.discounts", "Discount codes", PATH, Permission.ORDERS_READ, Section.commerce, 37
    )
]


def _body(submitted: Mapping[str, str]) -> dict[str, Any]:
    """The form as a `DiscountWrite` body: empty optional fields are absent, not ""."""
    body = {name: submitted.get(name, "").strip() for name in FIELDS}
    return {name: value for name, value in body.items() if value} | {
        "active": submitted.get("active", "true") == "true"
    }


class _Code(BaseModel):
    code: str = Field(pattern=CODE_PATTERN)


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _values(discount: DiscountRead) -> dict[str, str]:
    values = discount.model_dump(mode="json", include={"code", "active", *FIELDS})
    return {name: _text(value) for name, value in values.items()}


async def _render(
    page: Page, *, edit: FormState | None = None, notice: str | None = None, status_code: int = 200
) -> HTMLResponse:
    params = page.request.query_params
    rows, next_cursor = await list_discounts(
        page.session, page.member, active=None, limit=100, cursor=params.get("cursor") or None
    )
    return page.render(
        "screens/discounts.html",
        fragment="screens/_discounts.html",
        status_code=status_code,
        discounts=rows,
        next_cursor=next_cursor,
        edit=edit or FormState(values={"kind": "percentage", "active": "true"}),
        kinds=KINDS,
        notice=notice,
    )


@router.get("/" + PATH)
async def discounts_screen(
    page: Annotated[Page, tenant_page(Permission.ORDERS_READ)],
) -> HTMLResponse:
    code = page.request.query_params.get("edit")
    if code and page.can(Permission.ORDERS_WRITE):
        discount = await get_discount(page.session, page.member, code)
        return await _render(page, edit=FormState(values=_values(discount)))
    return await _render(page)


@router.post("/" + PATH)
async def save_discount(
    page: Annotated[Page, tenant_page(Permission.ORDERS_WRITE)],
) -> HTMLResponse:
    """Create or replace a code, audited as `PUT {T}/discounts/{code}` is."""
    submitted, form = await read_form(page.request)

    async def save() -> tuple[str, bool]:
        code = parse(_Code, {"code": submitted.get("code", "").strip()}).code
        body = parse(DiscountWrite, _body(submitted))
        discount, created = await put_discount(page.session, page.member, code, body, page.meta)
        return discount.code, created

    saved = await page.act(form, submitted, save)
    if saved is None:
        return await _render(page, edit=form, status_code=form_status(form))
    code, created = saved
    return await _render(page, notice=f"{code} {'created' if created else 'saved'}.")


@router.post("/" + PATH + "/{code}/active")
async def set_active(
    code: str, page: Annotated[Page, tenant_page(Permission.ORDERS_WRITE)]
) -> HTMLResponse:
    """Deactivate (or reactivate) a code, keeping its other terms and its uses."""
    submitted, form = await read_form(page.request)

    async def switch() -> str:
        current = await get_discount(page.session, page.member, code)
        terms = current.model_dump(include=set(DiscountWrite.model_fields))
        active = submitted.get("active") == "true"
        body = DiscountWrite.model_validate({**terms, "active": active})
        await put_discount(page.session, page.member, current.code, body, page.meta)
        return f"{current.code} is {'active' if active else 'deactivated'}."

    done = await page.act(form, submitted, switch)
    if done is None:
        return await _render(page, edit=form, status_code=form_status(form))
    return await _render(page, notice=done)
