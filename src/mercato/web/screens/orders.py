"""Commerce → Orders: the list with filters, and one order with its items, history, the
transitions its status allows, refunds (behind the step-up prompt), its shipments (create
one, mark one delivered) and returns (behind the step-up prompt)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import commit_midway
from mercato.kernel.errors import ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.locations import list_locations
from mercato.modules.orders import (
    ORDER_STATUSES,
    REFUNDABLE,
    RETURNABLE,
    SHIPPABLE,
    DeliveryCreate,
    OrderRead,
    RefundCreate,
    ReturnCreate,
    ShipmentCreate,
    TransitionCreate,
    create_return,
    create_shipment,
    get_order,
    list_orders,
    mark_delivered,
    order_counts,
    read_order,
    refund,
    send_refund,
    summary,
    transition,
)
from mercato.web.forms import FormState, form_status, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
M = TypeVar("M", bound=BaseModel)
PATH = "orders"
STATUSES = list(ORDER_STATUSES)
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


def _units_left(order: OrderRead) -> tuple[dict[str, int], dict[str, int]]:
    """Per product: units still to ship, and shipped units that can still come back."""
    ordered: dict[str, int] = {}
    for item in order.items:
        ordered[item.product_id] = ordered.get(item.product_id, 0) + item.quantity
    shipped = dict.fromkeys(ordered, 0)
    for shipment in order.shipments:
        for line in shipment.lines:
            shipped[line.product_id] += line.quantity
    returnable = dict(shipped)
    for record in order.returns:
        for returned in record.lines:
            returnable[returned.product_id] -= returned.quantity
    to_ship = {p: ordered[p] - shipped[p] for p in ordered if ordered[p] > shipped[p]}
    return to_ship, {p: n for p, n in returnable.items() if n > 0}


async def _render_order(
    page: Page,
    order_id: uuid.UUID,
    *,
    action: FormState | None = None,
    refund_form: FormState | None = None,
    shipment_form: FormState | None = None,
    return_form: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    order = await read_order(page.session, await get_order(page.session, page.member, order_id))
    to_ship, returnable = _units_left(order)
    can_ship = page.can(Permission.ORDERS_WRITE)
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
        shipment_form=shipment_form or FormState(),
        return_form=return_form or FormState(),
        can_deliver=can_ship,
        to_ship=to_ship if can_ship and order.status in SHIPPABLE else {},
        returnable=returnable
        if page.can(Permission.REFUNDS_WRITE) and order.status in RETURNABLE
        else {},
        locations=[
            (loc.code, f"{loc.code} — {loc.name}") for loc in await list_locations(page.session)
        ],
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


def _quantities(submitted: dict[str, str], prefix: str) -> dict[str, int]:
    """`{prefix}{product_id}` fields with a positive whole number, as product → units."""
    chosen: dict[str, int] = {}
    for name, value in submitted.items():
        if name.startswith(prefix) and value.strip() not in ("", "0"):
            product_id = name[len(prefix) :]
            if not value.strip().isdigit():
                message = f"Enter a whole number of units for {product_id}"
                raise ValidationFailed(message, errors=[field_error(name, message)])
            chosen[product_id] = int(value)
    if not chosen:
        message = "Enter how many units of at least one product"
        raise ValidationFailed(message, errors=[field_error("lines", message)])
    return chosen


def _optional(submitted: dict[str, str], *names: str) -> dict[str, str]:
    return {n: submitted[n].strip() for n in names if submitted.get(n, "").strip()}


def _checked(model: type[M], data: dict[str, Any]) -> M:
    """The body, or its first problem as a 422 on the form field it is about."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "lines"
        message = str(first["msg"])
        raise ValidationFailed(message, errors=[field_error(where, message)]) from exc


@router.post("/" + PATH + "/{order_id}/shipments")
async def ship_order(
    order_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.ORDERS_WRITE)]
) -> HTMLResponse:
    """Ship units from one location: the same service call as `POST {T}/orders/{id}/shipments`."""
    submitted, form = await read_form(page.request)

    async def ship() -> str:
        lines = _quantities(submitted, "ship-")
        body = _checked(
            ShipmentCreate,
            {
                "lines": [{"product_id": p, "quantity": q} for p, q in sorted(lines.items())],
                "location_code": submitted.get("location_code", ""),
                **_optional(submitted, "carrier", "tracking_number", "tracking_url"),
            },
        )
        order, _ = await create_shipment(page.session, page.member, order_id, body)
        return f"Shipped; the order is now {order.status.replace('_', ' ')}."

    done = await page.act(form, submitted, ship)
    if done is None:
        return await _render_order(
            page, order_id, shipment_form=form, status_code=form_status(form)
        )
    return await _render_order(page, order_id, notice=done)


@router.post("/" + PATH + "/{order_id}/shipments/{shipment_id}/delivered")
async def deliver_shipment(
    order_id: uuid.UUID,
    shipment_id: uuid.UUID,
    page: Annotated[Page, tenant_page(Permission.ORDERS_WRITE)],
) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def deliver() -> str:
        await mark_delivered(page.session, page.member, order_id, shipment_id, DeliveryCreate())
        return "The parcel is marked delivered."

    done = await page.act(form, submitted, deliver)
    if done is None:
        return await _render_order(page, order_id, action=form, status_code=form_status(form))
    return await _render_order(page, order_id, notice=done)


@router.post("/" + PATH + "/{order_id}/returns")
async def return_units(
    order_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.REFUNDS_WRITE)]
) -> HTMLResponse:
    """Take shipped units back and refund them; asks for the password when the login is old.

    The refund goes to the provider after the return is committed, as in the API."""
    submitted, form = await read_form(page.request)

    async def take_back() -> tuple[str, uuid.UUID | None]:
        restock = submitted.get("restock") == "1"
        body = _checked(
            ReturnCreate,
            {
                "lines": [
                    {
                        "product_id": p,
                        "quantity": q,
                        "restock": restock,
                        **_optional(submitted, "location_code"),
                    }
                    for p, q in sorted(_quantities(submitted, "return-").items())
                ],
                "reason": submitted.get("reason", "").strip(),
            },
        )
        record, refund_id = await create_return(page.session, page.member, order_id, body)
        return f"Return recorded; {record.refund_amount} {record.currency} to refund.", refund_id

    done = await page.act(form, submitted, take_back)
    if done is None:
        return await _render_order(page, order_id, return_form=form, status_code=form_status(form))
    notice, refund_id = done
    if refund_id is not None:
        await commit_midway(page.session)
        await send_refund(page.session, page.member.tenant_id, refund_id)
    return await _render_order(page, order_id, notice=notice)


async def _orders_panel(session: AsyncSession, principal: Principal) -> Mapping[str, Any]:
    return {**await order_counts(session), "url": f"/app/t/{principal.tenant_id}/{PATH}"}


PANELS = [
    OverviewPanel(
        "orders", "Orders", Permission.ORDERS_READ, "panels/orders.html", _orders_panel, order=35
    )
]
