"""Commerce → Stock: units on hand, reserved and available per product and location."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi.responses import HTMLResponse

from mercato.kernel.permissions import Permission
from mercato.modules.audit import record_audit
from mercato.modules.inventory import StockWrite, list_stock, set_on_hand
from mercato.modules.locations import list_locations
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "stock"

SCREENS = [Screen("commerce.stock", "Stock", PATH, Permission.INVENTORY_READ, Section.commerce, 35)]


def _stock_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"on_hand": submitted.get("on_hand", "").strip()}
    threshold = submitted.get("low_stock_threshold", "").strip()
    if threshold:
        body["low_stock_threshold"] = threshold
    for name in ("on_hand", "low_stock_threshold"):
        if name in body and body[name].isdigit():
            body[name] = int(body[name])
    return body


async def _render(
    page: Page, *, edit: FormState | None = None, notice: str | None = None, status_code: int = 200
) -> HTMLResponse:
    params = page.request.query_params
    location = params.get("location") or None
    low = params.get("low") == "1"
    rows, next_cursor = await list_stock(
        page.session,
        page.member,
        location_code=location,
        low_only=low,
        limit=100,
        cursor=params.get("cursor") or None,
    )
    locations = await list_locations(page.session)
    return page.render(
        "screens/stock.html",
        fragment="screens/_stock.html",
        status_code=status_code,
        rows=rows,
        next_cursor=next_cursor,
        location=location or "",
        low=low,
        location_options=[(loc.code, f"{loc.code} · {loc.name}") for loc in locations],
        edit=edit or FormState(),
        notice=notice,
    )


@router.get("/" + PATH)
async def stock_screen(
    page: Annotated[Page, tenant_page(Permission.INVENTORY_READ)],
) -> HTMLResponse:
    params = page.request.query_params
    if params.get("product") and page.can(Permission.INVENTORY_WRITE):
        values = {
            "product_id": params.get("product", ""),
            "location_code": params.get("at", ""),
            "on_hand": params.get("on_hand", ""),
            "low_stock_threshold": params.get("threshold", ""),
        }
        return await _render(page, edit=FormState(values=values))
    return await _render(page)


@router.post("/" + PATH)
async def save_stock(
    page: Annotated[Page, tenant_page(Permission.INVENTORY_WRITE)],
) -> HTMLResponse:
    """Set on_hand at one location, as `PUT {T}/inventory/{product_id}/{code}` does."""
    submitted, form = await read_form(page.request)

    async def save() -> str:
        product_id = submitted.get("product_id", "").strip()
        code = submitted.get("location_code", "").strip()
        body = parse(StockWrite, _stock_body(submitted))
        level = await set_on_hand(page.session, page.member, product_id, code, body)
        await record_audit(
            page.session,
            actor=page.member,
            action="stock.set",
            target=f"stock:{product_id}@{code}",
            changes={"on_hand": {"from": None, "to": body.on_hand}},
            meta=page.meta,
        )
        return f"{product_id} at {code}: {level.on_hand} on hand, {level.available} available."

    saved = await page.act(form, submitted, save)
    if saved is None:
        return await _render(page, edit=form, status_code=form_status(form))
    return await _render(page, notice=saved)
