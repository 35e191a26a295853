"""`/app` itself: send a signed-in user to a tenant, and let them create one."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mercato.modules import identity
from mercato.web.csrf import check_csrf
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import SignedInPage
from mercato.web.session import TENANT_COOKIE

router = APIRouter(prefix="/app", include_in_schema=False, dependencies=[Depends(check_csrf)])


@router.get("")
async def start(page: SignedInPage) -> Response:
    """The last tenant used if the user still belongs to it, else the first one."""
    if not page.memberships:
        return RedirectResponse("/app/tenants/new", status_code=303)
    remembered = page.request.cookies.get(TENANT_COOKIE)
    ids = [str(item.id) for item in page.memberships]
    chosen = remembered if remembered in ids else ids[0]
    return RedirectResponse(f"/app/t/{chosen}", status_code=303)


@router.get("/tenants/new")
async def new_tenant_form(page: SignedInPage) -> HTMLResponse:
    return page.render("tenant_new.html", form=FormState())


@router.post("/tenants/new")
async def new_tenant(page: SignedInPage) -> Response:
    submitted, form = await read_form(page.request)
    values = {**submitted, "slug": submitted.get("slug") or None}

    async def create() -> uuid.UUID:
        body = parse(identity.TenantCreate, values)
        tenant = await identity.create_tenant(
            page.session, page.principal, name=body.name, slug=body.slug, meta=page.meta
        )
        return tenant.id

    tenant_id = await page.act(form, submitted, create)
    if tenant_id is None:
        return page.render("tenant_new.html", form=form, status_code=form_status(form))
    return RedirectResponse(f"/app/t/{tenant_id}", status_code=303)
