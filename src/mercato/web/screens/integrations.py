"""Settings → Integrations: SFTP, SMTP, BigQuery, Google and Stripe settings, each with a
"test connection" button. Forms are built from each kind's own settings model, so what the
page asks for is what `PUT {T}/integrations/{kind}` validates; secrets are write-only."""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi.responses import HTMLResponse

from mercato.kernel.errors import NotFound
from mercato.kernel.permissions import Permission
from mercato.modules import integrations
from mercato.modules.integrations import (
    KINDS,
    ConnectionCheck,
    IntegrationKind,
    IntegrationRead,
    run_check,
)
from mercato.web.forms import FormState, form_status, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section

router = screen_router()
PATH = "settings/integrations"

SCREENS = [
    Screen(
        "settings.integrations",
        "Integrations",
        PATH,
        Permission.INTEGRATIONS_READ,
        Section.settings,
        30,
    )
]

TITLES = {
    "sftp": ("SFTP", "Users and locations files from your ERP, fetched daily."),
    "smtp": ("SMTP", "Your own mail server for reports and notifications."),
    "bigquery": ("BigQuery", "Your GA4 export, read for event imports."),
    "google": ("Google API client", "Your own Google OAuth client for Merchant Center."),
    "stripe": ("Stripe", "Payments for checkout."),
}
LONG_TEXT = {"private_key", "host_key", "credentials_json"}
WORDS = {"id": "ID", "json": "JSON"}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str  # text | number | checkbox | select | secret | textarea
    required: bool
    choices: tuple[tuple[str, str], ...] = ()


def _plain(annotation: Any) -> Any:
    """`X | None` → X."""
    if get_origin(annotation) in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        return present[0] if len(present) == 1 else annotation
    return annotation


def fields_of(kind: str) -> list[Field]:
    spec = KINDS[kind]
    found = []
    for name, info in spec.model.model_fields.items():
        annotation = _plain(info.annotation)
        words = [WORDS.get(word, word) for word in name.split("_")]
        label = " ".join(words)[:1].upper() + " ".join(words)[1:]
        if name in spec.secrets:
            widget = "secret"
        elif name in LONG_TEXT:
            widget = "textarea"
        elif annotation is bool:
            widget = "checkbox"
        elif annotation is int:
            widget = "number"
        elif get_origin(annotation) is Literal:
            choices = tuple((str(c), str(c)) for c in get_args(annotation))
            found.append(Field(name, label, "select", info.is_required(), choices))
            continue
        else:
            widget = "text"
        found.append(Field(name, label, widget, info.is_required()))
    return found


def _body(kind: str, submitted: Mapping[str, str]) -> dict[str, Any]:
    """The form as the PUT body: empty fields fall back to defaults, empty secrets are kept."""
    body: dict[str, Any] = {}
    for field in fields_of(kind):
        raw = submitted.get(field.name, "")
        if field.widget == "checkbox":
            body[field.name] = raw == "on"
        elif raw.strip():
            body[field.name] = raw if field.widget in ("secret", "textarea") else raw.strip()
    return body


def _values(read: IntegrationRead | None, kind: str) -> dict[str, str]:
    if read is None:
        defaults = {}
        for name, info in KINDS[kind].model.model_fields.items():
            if not info.is_required() and info.default is not None:
                defaults[name] = "on" if info.default is True else str(info.default)
        return defaults
    values = {}
    for field in fields_of(kind):
        value = read.settings.get(field.name)
        if field.widget == "secret" or value is None:
            continue
        values[field.name] = ("on" if value else "") if isinstance(value, bool) else str(value)
    return values


async def _render(
    page: Page,
    *,
    active: tuple[str, FormState] | None = None,
    check: ConnectionCheck | None = None,
    notice: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    configured = {
        read.kind: read for read in await integrations.list_integrations(page.session, page.member)
    }
    cards = []
    for kind in KINDS:
        read = configured.get(kind)
        form = active[1] if active and active[0] == kind else FormState(values=_values(read, kind))
        cards.append(
            {
                "kind": kind,
                "title": TITLES.get(kind, (kind, ""))[0],
                "about": TITLES.get(kind, (kind, ""))[1],
                "read": read,
                "fields": fields_of(kind),
                "form": form,
                "check": check if check and check.kind == kind else None,
                "notice": notice[1] if notice and notice[0] == kind else None,
            }
        )
    return page.render(
        "screens/integrations.html",
        fragment="screens/_integrations.html",
        status_code=status_code,
        cards=cards,
    )


@router.get("/" + PATH)
async def integrations_screen(
    page: Annotated[Page, tenant_page(Permission.INTEGRATIONS_READ)],
) -> HTMLResponse:
    return await _render(page)


Writer = Annotated[Page, tenant_page(Permission.INTEGRATIONS_WRITE)]


@router.post("/" + PATH + "/{kind}")
async def save_integration(kind: IntegrationKind, page: Writer) -> HTMLResponse:
    """Create or replace, as `PUT {T}/integrations/{kind}` (secrets ask for step-up)."""
    submitted, form = await read_form(page.request)

    async def save() -> str:
        _, created = await integrations.put_integration(
            page.session, page.member, kind, _body(kind, submitted), page.meta
        )
        return f"{TITLES[kind][0]} is {'set up' if created else 'saved'}."

    notice = await page.act(form, submitted, save)
    if notice is None:
        return await _render(page, active=(kind, form), status_code=form_status(form))
    return await _render(page, notice=(kind, notice))


@router.post("/" + PATH + "/{kind}/test")
async def test_integration(kind: IntegrationKind, page: Writer) -> HTMLResponse:
    """Try the saved settings against the real service and say what happened."""
    config = await integrations.get_integration_config(page.session, page.tenant_id, kind)
    if config is None:
        raise NotFound(f"The {kind} integration is not configured")
    return await _render(page, check=await run_check(kind, config))
