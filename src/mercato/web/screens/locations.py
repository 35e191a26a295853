"""Commerce → Locations: stores, branches and warehouses by the merchant's own code."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.errors import ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.audit import record_audit
from mercato.modules.locations import (
    CODE_PATTERN,
    LocationWrite,
    get_location,
    list_locations,
    upsert_location,
)
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
PATH = "locations"
KINDS = [("store", "Store"), ("branch", "Branch"), ("warehouse", "Warehouse"), ("online", "Online")]

SCREENS = [
    Screen("commerce.locations", "Locations", PATH, Permission.INVENTORY_READ, Section.commerce, 30)
]

FIELDS = ("name", "kind", "address", "timezone", "phone", "email", "status")


def _location_body(submitted: Mapping[str, str]) -> dict[str, Any]:
    """The form as a `LocationWrite` body: empty optional fields are absent, not ""."""
    body: dict[str, Any] = {name: submitted.get(name, "").strip() for name in FIELDS}
    return {name: value for name, value in body.items() if value}


def _code(submitted: Mapping[str, str]) -> str:
    code = submitted.get("code", "").strip()
    if not re.match(CODE_PATTERN, code):
        message = "use 1 to 64 letters, digits, dots, dashes or underscores"
        raise ValidationFailed(message, errors=[field_error("code", message)])
    return code


async def _render(
    page: Page, *, edit: FormState | None = None, notice: str | None = None, status_code: int = 200
) -> HTMLResponse:
    show_archived = page.request.query_params.get("archived") == "1"
    return page.render(
        "screens/locations.html",
        fragment="screens/_locations.html",
        status_code=status_code,
        locations=await list_locations(page.session, include_archived=show_archived),
        show_archived=show_archived,
        edit=edit or FormState(values={"kind": "store", "status": "active"}),
        kinds=KINDS,
        notice=notice,
    )


@router.get("/" + PATH)
async def locations_screen(
    page: Annotated[Page, tenant_page(Permission.INVENTORY_READ)],
) -> HTMLResponse:
    code = page.request.query_params.get("edit")
    if code and page.can(Permission.INVENTORY_WRITE):
        location = await get_location(page.session, page.tenant_id, code)
        values = {"code": location.code, **{n: getattr(location, n) or "" for n in FIELDS}}
        return await _render(page, edit=FormState(values=values))
    return await _render(page)


@router.post("/" + PATH)
async def save_location(
    page: Annotated[Page, tenant_page(Permission.INVENTORY_WRITE)],
) -> HTMLResponse:
    """Create or replace a location, audited as `PUT {T}/locations/{code}` is."""
    submitted, form = await read_form(page.request)

    async def save() -> tuple[str, bool]:
        code = _code(submitted)
        body = parse(LocationWrite, _location_body(submitted))
        location, created = await upsert_location(page.session, page.tenant_id, code, body)
        await record_audit(
            page.session,
            actor=page.member,
            action="location.created" if created else "location.replaced",
            target=f"location:{code}",
            changes={"name": {"from": None, "to": location.name}},
            meta=page.meta,
        )
        return location.name, created

    saved = await page.act(form, submitted, save)
    if saved is None:
        return await _render(page, edit=form, status_code=form_status(form))
    name, created = saved
    return await _render(page, notice=f"{name} {'added' if created else 'saved'}.")


async def _network(session: AsyncSession, principal: Principal) -> Mapping[str, Any]:
    active = await list_locations(session)
    return {
        "active": len(active),
        "by_kind": sorted(Counter(location.kind for location in active).items()),
        "url": f"/app/t/{principal.tenant_id}/{PATH}",
    }


PANELS = [
    OverviewPanel(
        "locations",
        "Locations",
        Permission.INVENTORY_READ,
        "panels/locations.html",
        _network,
        order=40,
    )
]
