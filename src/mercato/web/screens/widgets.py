"""Marketing → Widgets: the recommendation widget of a placement, edited with a live preview.

The preview is the widget module's own server-rendered page (`render_preview`, the same
markup and classes as the JS SDK), filled with live recommendations and the draft typed
in the editor, shown in a sandboxed frame. It loads nothing remote: product images are
shown only from this server's `/media/` (demo data names hosts that do not exist).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi.responses import HTMLResponse
from markupsafe import escape

from mercato.kernel.errors import DomainError, ValidationFailed, field_error
from mercato.kernel.permissions import Permission
from mercato.modules import widgets
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.recommendations import PLACEMENT_PATTERN, RecommendationQuery, compute
from mercato.modules.widgets import Theme, WidgetRead, WidgetWrite, render_preview
from mercato.web.forms import FormState, form_status, parse, read_form
from mercato.web.pages import Page, screen_router, tenant_page
from mercato.web.registry import Screen, Section
from mercato.web.screens.personalization import local_image

router = screen_router()
PATH = "personalization/widgets"
DEFAULT_PLACEMENT = "product_page"
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)

SCREENS = [
    Screen("marketing.widgets", "Widgets", PATH, Permission.WIDGETS_READ, Section.marketing, 15)
]

Reader = Annotated[Page, tenant_page(Permission.WIDGETS_READ)]
LAYOUTS = [("grid", "Grid"), ("carousel", "Carousel"), ("list", "List")]
TEXT_FIELDS = ("title", "layout", "columns", "max_items", "cta_text", "product_url")
THEME_FIELDS = tuple(Theme.model_fields)


def _placement(raw: str) -> str:
    if not re.match(PLACEMENT_PATTERN, raw):
        message = "letters, digits, dots, dashes or underscores, like product_page"
        raise ValidationFailed(message, errors=[field_error("placement", message)])
    return raw


def _values(widget: WidgetRead) -> dict[str, str]:
    values = {
        name: "" if getattr(widget, name) is None else str(getattr(widget, name))
        for name in TEXT_FIELDS
    }
    values.update({name: str(getattr(widget.theme, name)) for name in THEME_FIELDS})
    values["show_price"] = "on" if widget.show_price else ""
    return values


def _body(submitted: Mapping[str, str]) -> dict[str, Any]:
    """The editor's fields as a `WidgetWrite` body (empty optional text is left out)."""
    body: dict[str, Any] = {
        name: submitted.get(name, "").strip()
        for name in TEXT_FIELDS
        if submitted.get(name, "").strip()
    }
    body["show_price"] = submitted.get("show_price") == "on"
    body["theme"] = {
        name: submitted.get(name, "").strip()
        for name in THEME_FIELDS
        if submitted.get(name, "").strip()
    }
    return body


def _draft(submitted: Mapping[str, str]) -> WidgetWrite:
    """Validate like the API; nested and whole-widget problems land on the editor's fields."""
    try:
        return parse(WidgetWrite, _body(submitted))
    except ValidationFailed as invalid:

        def name(field: str) -> str:
            if field.startswith("theme."):
                return field.removeprefix("theme.")
            return "columns" if field == "body" else field

        invalid.errors = [
            {**item, "field": name(str(item.get("field", "")))} for item in invalid.errors or []
        ]
        raise


async def _render(
    page: Page,
    placement: str,
    *,
    form: FormState | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    widget = await widgets.get_widget(page.session, page.tenant_id, placement)
    form = form or FormState(values=_values(widget))
    return page.render(
        "screens/widgets.html",
        fragment="screens/_widget_editor.html",
        status_code=status_code,
        placement=placement,
        widget=widget,
        form=form,
        layouts=LAYOUTS,
        preview_src=_preview_src(page, placement, form.values),
        configured=await widgets.list_widgets(page.session, page.tenant_id),
        notice=notice,
    )


def _preview_src(page: Page, placement: str, values: Mapping[str, str]) -> str:
    shown = {k: v for k, v in values.items() if k in (*TEXT_FIELDS, *THEME_FIELDS, "show_price")}
    query = urlencode({**shown, "draft": "1"})
    return f"{page.url(PATH)}/{placement}/preview?{query}"


@router.get("/" + PATH)
async def widgets_screen(page: Reader) -> HTMLResponse:
    raw = page.request.query_params.get("placement", DEFAULT_PLACEMENT).strip()
    form = FormState()
    try:
        placement = _placement(raw)
    except DomainError as error:
        form.show(error)
        form.values["placement"] = raw
        return page.render(
            "screens/widgets.html",
            status_code=form_status(form),
            placement=None,
            form=form,
            notice=None,
        )
    return await _render(page, placement)


@router.post("/" + PATH + "/{placement}")
async def save_widget(
    placement: str, page: Annotated[Page, tenant_page(Permission.WIDGETS_WRITE)]
) -> HTMLResponse:
    """Create or replace the placement's widget, audited as `PUT {T}/widgets/{placement}`."""
    submitted, form = await read_form(page.request)

    async def save() -> str:
        chosen = _placement(placement)
        body = _draft(submitted)
        widget, before = await widgets.put_widget(page.session, page.tenant_id, chosen, body)
        await record_audit(
            page.session,
            actor=page.member,
            action="widget.created" if before is None else "widget.replaced",
            target=f"widget:{chosen}",
            changes=field_changes(
                before.model_dump(mode="json", exclude={"updated_at"}) if before else {},
                widget.model_dump(mode="json", exclude={"updated_at"}),
            ),
            meta=page.meta,
        )
        return f"The {chosen} widget is saved; your site shows it from now on."

    notice = await page.act(form, submitted, save)
    if notice is None:
        return await _render(page, placement, form=form, status_code=form_status(form))
    return await _render(page, placement, notice=notice)


@router.post("/" + PATH + "/{placement}/delete")
async def delete_widget(
    placement: str, page: Annotated[Page, tenant_page(Permission.WIDGETS_WRITE)]
) -> HTMLResponse:
    """Delete the placement's widget, as `DELETE {T}/widgets/{placement}` does."""
    submitted, form = await read_form(page.request)

    async def delete() -> str:
        chosen = _placement(placement)
        await widgets.delete_widget(page.session, page.member, chosen, page.meta)
        return f"The {chosen} widget is deleted; your site gets the defaults from now on."

    notice = await page.act(form, submitted, delete)
    if notice is None:
        return await _render(page, placement, form=form, status_code=form_status(form))
    return await _render(page, placement, notice=notice)


@router.get("/" + PATH + "/{placement}/frame")
async def widget_frame(placement: str, page: Reader) -> HTMLResponse:
    """The preview frame for the editor's current fields (htmx swaps it in as they change)."""
    chosen = _placement(placement)
    values = {key: value for key, value in page.request.query_params.items()}
    return page.render("screens/_widget_frame.html", preview_src=_preview_src(page, chosen, values))


@router.get("/" + PATH + "/{placement}/preview")
async def widget_preview(placement: str, page: Reader) -> HTMLResponse:
    """The widget page for the frame: the saved widget, or the editor's draft (`draft=1`)."""
    chosen = _placement(placement)
    params = {key: value for key, value in page.request.query_params.items()}
    saved = await widgets.get_widget(page.session, page.tenant_id, chosen)
    widget = saved
    if params.get("draft") == "1":
        try:
            draft = _draft(params)
        except ValidationFailed as invalid:
            problems = "; ".join(
                f"{item.get('field')}: {item.get('message')}" for item in invalid.errors or []
            )
            return _preview_response(
                f"<p style='font: 14px system-ui; color: #b3261e'>Fix the editor's fields to "
                f"see the preview ({escape(problems)}).</p>",
                status_code=200,
            )
        widget = WidgetRead(placement=chosen, configured=saved.configured, **draft.model_dump())
    recommendations = await compute(
        page.session,
        page.tenant_id,
        RecommendationQuery(placement=chosen, limit=widget.max_items),
    )
    local = [
        item.model_copy(update={"image_url": local_image(item.image_url)})
        for item in recommendations.data
    ]
    html = render_preview(widget, recommendations.model_copy(update={"data": local}))
    return _preview_response(html)


def _preview_response(html: str, *, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code)
    response.headers["content-security-policy"] = PREVIEW_POLICY
    response.headers["cache-control"] = "no-store"
    response.headers["x-frame-options"] = "SAMEORIGIN"
    return response
