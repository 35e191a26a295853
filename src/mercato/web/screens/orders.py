"""Commerce → Orders: the list with filters, and one order with its items, history, the
transitions its status allows and refunds (behind the step-up prompt)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.orders import (
    REFUNDABLE,
    RefundCreate,
    TransitionCreate,
    get_order,
    list_orders,
    order_counts,
    read_order,
    refund,
    summary,
    transition,
)
from mercato.web.forms import FormState, form_status, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
PATH = "orders"
STATUSES = [
    "pending",
    "paid",
    "fulfilled",
    "completed",
    "cancelled",
    "refunded",
    "partially_refunded",
]
# Moves that give money back need the refund permission (and step-up), not only orders:write.
MONEY_BACK = {"refunded"}

SCREENS = [Screen("commerce.orders", "Orders", PATH, Permission.ORDERS_READ, Section.commerce, 36)]


@router.get("/" + PATH)
async def orders_screen(page: Annotated[Page, tenant_page(Permission.ORDERS_READ)]) -> HTMLResponse:
    params = page.request.query_params
    status = params.get("status") or None
    email = (params.get("email") or "").strip() or None
    rows, next_cursor = await list_orders(
        page.session,
        page.member,
        status=status if status in STATUSES else None,
        email=email,
        created_from=None,
        created_to=None,
        limit=50,
        cursor=params.get("cursor") or None,
    )
    return page.render(
        "screens/orders.html",
        fragment="screens/_orders.html",
        orders=[summary(row) for row in rows],
        next_cursor=next_cursor,
        status=status or "",
        email=email or "",
        statuses=STATUSES,
    )


def _buttons(page: Page, status: str, allowed: list[str]) -> list[str]:
    """The transitions this person may press: none for a viewer."""
    shown = []
    for to in allowed:
        if to == "partially_refunded":
            continue  # an amount is needed: the refund form
        money_back = to in MONEY_BACK or (to == "cancelled" and status == "paid")
        if page.can(Permission.REFUNDS_WRITE if money_back else Permission.ORDERS_WRITE):
            shown.append(to)
    return shown


async def _render_order(
    page: Page,
    order_id: uuid.UUID,
    *,
    action: FormState | None = None,
    refund_form: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    order = await read_order(page.session, await get_order(page.session, page.member, order_id))
    return page.render(
        "screens/order.html",
        fragment="screens/_order.html",
        status_code=status_code,
        order=order,
        buttons=_buttons(page, order.status, order.allowed_transitions),
        can_refund=page.can(Permission.REFUNDS_WRITE) and order.status in REFUNDABLE,
        remaining=order.total - order.refunded_amount,
        action=action or FormState(),
        refund_form=refund_form or FormState(),
        notice=notice,
    )


@router.get("/" + PATH + "/{order_id}")
async def order_screen(
    order_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.ORDERS_READ)]
) -> HTMLResponse:
    return await _render_order(page, order_id)


@router.post("/" + PATH + "/{order_id}/transitions")
async def move_order(
    order_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.ORDERS_WRITE)]
) -> HTMLResponse:
    """Press a transition button: the same service call as `POST {T}/orders/{id}/transitions`."""
    submitted, form = await read_form(page.request)

    async def move() -> str:
        to = submitted.get("to", "")
        if to not in STATUSES:
            raise ValidationFailed("Unknown status", errors=[field_error("to", "unknown status")])
        body = TransitionCreate.model_validate(
            {"to": to, "restock": submitted.get("restock") == "1"}
        )
        await transition(page.session, page.member, order_id, body)
        return f"The order is now {to.replace('_', ' ')}."

    moved = await page.act(form, submitted, move)
    if moved is None:
        return await _render_order(page, order_id, action=form, status_code=form_status(form))
    return await _render_order(page, order_id, notice=moved)


def _refund_body(submitted: dict[str, str]) -> RefundCreate:
    data: dict[str, Any] = {"restock": submitted.get("restock") == "1"}
    amount = submitted.get("amount", "").strip()
    if amount:
        try:
            data["amount"] = Decimal(amount)
        except InvalidOperation as exc:
            message = "Enter an amount such as 12.50, or leave it empty for the rest"
            raise ValidationFailed(message, errors=[field_error("amount", message)]) from exc
    reason = submitted.get("reason", "").strip()
    if reason:
        data["reason"] = reason
    try:
        return RefundCreate.model_validate(data)
    except ValueError as exc:
        message = "Enter a positive amount with at most two decimals"
        raise ValidationFailed(message, errors=[field_error("amount", message)]) from exc


@router.post("/" + PATH + "/{order_id}/refunds")
async def refund_order(
    order_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.REFUNDS_WRITE)]
) -> HTMLResponse:
    """Refund all or part of the order; asks for the password when the login is old."""
    submitted, form = await read_form(page.request)

    async def give_back() -> str:
        order = await refund(page.session, page.member, order_id, _refund_body(submitted))
        assert page.tenant is not None
        total = page.tenant.formats.money(order.refunded_amount, order.currency)
        return f"Refunded; {total} refunded in total."

    done = await page.act(form, submitted, give_back)
    if done is None:
        return await _render_order(page, order_id, refund_form=form, status_code=form_status(form))
    return await _render_order(page, order_id, notice=done)


async def _orders_panel(session: AsyncSession, principal: Principal) -> Mapping[str, Any]:
    return {**await order_counts(session), "url": f"/app/t/{principal.tenant_id}/{PATH}"}


PANELS = [
    OverviewPanel(
        "orders", "Orders", Permission.ORDERS_READ, "panels/orders.html", _orders_panel, order=35
    )
]
