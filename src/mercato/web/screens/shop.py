"""Settings → Shop: the tenant's locale, currency and time zone, as `PATCH {T}` sets them.

The locale and currency decide how every amount, number and date of the dashboard, the
report e-mails and the CSV exports is written (`kernel.formats`); an empty field goes back
to the default.
"""

from __future__ import annotations

from typing import Annotated

from fastapi.responses import HTMLResponse

from mercato.kernel.formats import DEFAULT_CURRENCY, DEFAULT_LOCALE
from mercato.kernel.permissions import Permission
from mercato.modules.identity import (
    TenantFacts,
    TenantSettings,
    TenantUpdate,
    tenant_facts,
    update_tenant,
)
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "settings/shop"
SCREENS = [Screen("settings.shop", "Shop", PATH, Permission.TENANT_READ, Section.settings, 5)]
FIELDS = ("locale", "currency", "timezone")


def _current(tenant: TenantFacts) -> FormState:
    return FormState(values={name: str(tenant.settings.get(name) or "") for name in FIELDS})


async def _render(
    page: Page, form: FormState, *, notice: str | None = None, status_code: int = 200
) -> HTMLResponse:
    return page.render(
        "screens/shop.html",
        fragment="screens/_shop.html",
        status_code=status_code,
        form=form,
        notice=notice,
        default_locale=DEFAULT_LOCALE,
        default_currency=DEFAULT_CURRENCY,
    )


@router.get("/" + PATH)
async def shop_screen(page: Annotated[Page, tenant_page(Permission.TENANT_READ)]) -> HTMLResponse:
    assert page.tenant is not None
    return await _render(page, _current(page.tenant))


@router.post("/" + PATH)
async def save_shop(page: Annotated[Page, tenant_page(Permission.TENANT_WRITE)]) -> HTMLResponse:
    """Save the three settings (audited as `tenant.updated`, like the API's update)."""
    submitted, form = await read_form(page.request)

    async def save() -> TenantFacts | None:
        values = {name: submitted.get(name, "").strip() or None for name in FIELDS}
        settings = parse(TenantSettings, values)
        await update_tenant(page.session, page.member, TenantUpdate(settings=settings), page.meta)
        return await tenant_facts(page.session, page.tenant_id)

    saved = await page.act(form, submitted, save)
    if saved is None:
        return await _render(page, form, status_code=form_status(form))
    page.tenant = saved  # the amounts on this page follow the new settings at once
    return await _render(page, _current(saved), notice="Shop settings saved.")
