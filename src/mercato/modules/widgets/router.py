"""`{T}/widgets`: list the configured widgets; configure, read, preview and delete one
placement's widget; and the JS SDK bundle at `/sdk/v1/mercato.js`."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import HTMLResponse

from mercato.kernel.deps import DbSession, Meta
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.identity import require
from mercato.modules.recommendations import PLACEMENT_PATTERN, RecommendationQuery, compute
from mercato.modules.widgets import service
from mercato.modules.widgets.preview import render_preview
from mercato.modules.widgets.schemas import WidgetRead, WidgetWrite

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/widgets", tags=["widgets"])
sdk_router = APIRouter(tags=["sdk"])
Placement = Annotated[str, Path(pattern=PLACEMENT_PATTERN, description="The slot on the site")]
SDK_CACHE = "public, max-age=604800, stale-while-revalidate=86400"


@router.put(
    "/{placement}",
    response_model=WidgetRead,
    responses={201: {"description": "Created"}, 200: {"description": "Replaced"}},
)
async def put_widget(
    placement: Placement,
    body: WidgetWrite,
    response: Response,
    principal: Annotated[TenantPrincipal, require(Permission.WIDGETS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> WidgetRead:
    widget, before = await service.put_widget(session, principal.tenant_id, placement, body)
    await record_audit(
        session,
        actor=principal,
        action="widget.created" if before is None else "widget.replaced",
        target=f"widget:{placement}",
        changes=field_changes(
            before.model_dump(mode="json", exclude={"updated_at"}) if before else {},
            widget.model_dump(mode="json", exclude={"updated_at"}),
        ),
        meta=meta,
    )
    response.status_code = status.HTTP_201_CREATED if before is None else status.HTTP_200_OK
    return widget


@router.get("", response_model=Page[WidgetRead])
async def list_widgets(
    principal: Annotated[TenantPrincipal, require(Permission.WIDGETS_READ)],
    session: DbSession,
) -> Page[WidgetRead]:
    """Every configured placement (placements never configured answer the defaults)."""
    return Page[WidgetRead](data=await service.list_widgets(session, principal.tenant_id))


@router.delete("/{placement}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_widget(
    placement: Placement,
    principal: Annotated[TenantPrincipal, require(Permission.WIDGETS_WRITE)],
    session: DbSession,
    meta: Meta,
) -> Response:
    """Remove a placement's widget; the SDK gets the defaults from the next read on."""
    await service.delete_widget(session, principal, placement, meta)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{placement}", response_model=WidgetRead)
async def get_widget(
    placement: Placement,
    principal: Annotated[TenantPrincipal, require(Permission.WIDGETS_READ)],
    session: DbSession,
) -> WidgetRead:
    return await service.get_widget(session, principal.tenant_id, placement)


@router.get("/{placement}/preview", response_class=HTMLResponse)
async def preview_widget(
    placement: Placement,
    principal: Annotated[TenantPrincipal, require(Permission.WIDGETS_READ)],
    session: DbSession,
    user_id: Annotated[str | None, Query(max_length=200)] = None,
    product_id: Annotated[str | None, Query(max_length=128)] = None,
) -> HTMLResponse:
    """The widget as shoppers would see it, filled with live recommendations."""
    widget = await service.get_widget(session, principal.tenant_id, placement)
    recommendations = await compute(
        session,
        principal.tenant_id,
        RecommendationQuery(
            user_id=user_id or None,
            product_id=product_id or None,
            placement=placement,
            limit=widget.max_items,
        ),
    )
    return HTMLResponse(render_preview(widget, recommendations))


@sdk_router.get("/sdk/v1/mercato.js", include_in_schema=False)
async def sdk_bundle() -> Response:
    """The JS SDK, built from `sdk/` and committed; cached a week by browsers and CDNs."""
    bundle, etag = _bundle()
    return Response(
        content=bundle,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": SDK_CACHE, "ETag": etag, "Access-Control-Allow-Origin": "*"},
    )


@cache
def _bundle() -> tuple[bytes, str]:
    bundle = files("mercato.modules.widgets").joinpath("static/mercato.js").read_bytes()
    return bundle, '"' + hashlib.sha256(bundle).hexdigest()[:32] + '"'
