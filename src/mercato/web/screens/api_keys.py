"""Settings → API keys: list, create (step-up; the key is shown once), revoke (step-up)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal
from mercato.modules.identity import (
    ApiKeyCreate,
    ApiKeyRead,
    api_key_read,
    create_key,
    list_keys,
    revoke_key,
)
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import OverviewPanel, Screen, Section

router = screen_router()
PATH = "settings/api-keys"

SCREENS = [
    Screen("settings.api_keys", "API keys", PATH, Permission.API_KEYS_READ, Section.settings, 20)
]

NEW_KEY_DEFAULTS = {"kind": "secret", "permission": "read", "mode": "live"}


def _key_request(submitted: Mapping[str, str]) -> dict[str, Any]:
    """The form as an `ApiKeyCreate` body: one allowed origin per line."""
    origins = [line.strip() for line in submitted.get("allowed_origins", "").splitlines()]
    return {
        "name": submitted.get("name", ""),
        "kind": submitted.get("kind", ""),
        "permission": submitted.get("permission", ""),
        "mode": submitted.get("mode", "live"),
        "allowed_origins": [origin for origin in origins if origin] or None,
    }


async def _render(
    page: Page,
    *,
    create: FormState | None = None,
    row: tuple[uuid.UUID, FormState] | None = None,
    created: tuple[ApiKeyRead, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listed = [api_key_read(key) for key in await list_keys(page.session, page.member)]
    return page.render(
        "screens/api_keys.html",
        fragment="screens/_api_keys.html",
        status_code=status_code,
        keys=listed,
        create=create or FormState(values=dict(NEW_KEY_DEFAULTS)),
        row_id=row[0] if row else None,
        row_form=row[1] if row else FormState(),
        created=created,
        notice=notice,
    )


@router.get("/" + PATH)
async def api_keys_screen(
    page: Annotated[Page, tenant_page(Permission.API_KEYS_READ)],
) -> HTMLResponse:
    return await _render(page)


@router.post("/" + PATH)
async def create_api_key(
    page: Annotated[Page, tenant_page(Permission.API_KEYS_WRITE)],
) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def create() -> tuple[ApiKeyRead, str]:
        body = parse(ApiKeyCreate, _key_request(submitted))
        key, raw = await create_key(page.session, page.member, body, page.meta)
        return api_key_read(key), raw

    created = await page.act(form, submitted, create)
    if created is None:
        return await _render(page, create=form, status_code=form_status(form))
    return await _render(page, created=created)


@router.post("/" + PATH + "/{key_id}/revoke")
async def revoke_api_key(
    key_id: uuid.UUID, page: Annotated[Page, tenant_page(Permission.API_KEYS_WRITE)]
) -> HTMLResponse:
    submitted, form = await read_form(page.request)

    async def revoke() -> bool:
        await revoke_key(page.session, page.member, key_id, page.meta)
        return True

    if await page.act(form, submitted, revoke) is None:
        return await _render(page, row=(key_id, form), status_code=form_status(form))
    return await _render(page, notice="The key is revoked; requests with it are refused.")


async def _key_summary(session: AsyncSession, principal: Principal) -> Mapping[str, Any]:
    listed = [api_key_read(key) for key in await list_keys(session, principal)]
    live = [key for key in listed if key.revoked_at is None]
    used = [key.last_used_at for key in live if key.last_used_at is not None]
    last_used: datetime | None = max(used) if used else None
    return {
        "active": len(live),
        "revoked": len(listed) - len(live),
        "secret": sum(1 for key in live if key.kind == "secret"),
        "publishable": sum(1 for key in live if key.kind == "publishable"),
        "last_used": last_used,
        "url": f"/app/t/{principal.tenant_id}/{PATH}",
    }


PANELS = [
    OverviewPanel(
        "api_keys",
        "API keys",
        Permission.API_KEYS_READ,
        "panels/api_keys.html",
        _key_summary,
        order=60,
    )
]
