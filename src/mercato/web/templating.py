"""Jinja2 rendering for the dashboard: one environment, versioned static URLs, safe headers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.datastructures import QueryParams

from mercato import __version__
from mercato.kernel.formats import Amount, Formats
from mercato.modules.identity import Role, TenantFacts
from mercato.settings import get_settings
from mercato.web import charts
from mercato.web.csrf import CSRF_FIELD, csrf_token, remember_csrf_token
from mercato.web.forms import FormState

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/app/static"
# htmx.min.js from npm's `htmx.org`, copied here by `cd sdk && npm run build` (version
# pinned in sdk/package.json; the built file is committed, like the JS SDK).
HTMX_FILE = "vendor/htmx.min.js"

# Everything the pages load comes from this origin; no inline script or style at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'{form_targets}; frame-ancestors 'none'; "
    "base-uri 'self'; object-src 'none'"
)
THEMES = ("light", "dark")


def content_security_policy() -> str:
    """The dashboard's policy. A form may also lead to Google's consent page: linking a
    Google account posts to the dashboard, which redirects there (`form-action` covers
    where a submission's redirects go)."""
    parts = urlsplit(get_settings().google_oauth_authorize_url)
    google = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return CONTENT_SECURITY_POLICY.format(form_targets=google)


@lru_cache(maxsize=64)
def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """`/app/static/<name>?v=<content hash>`: cached for a year, busted by any change."""
    return f"{STATIC_URL}/{name}?v={_fingerprint(STATIC_DIR / name)}"


def when(moment: datetime | None) -> str:
    """Timestamps as the API gives them (UTC), in a form people read."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def display(value: object) -> str:
    """A value from an audit change: lists joined, nothing shown as an em dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def _formats(context: Context) -> Formats:
    """The page's tenant's formats; pages outside a tenant use the defaults."""
    tenant = context.get("tenant")
    return tenant.formats if isinstance(tenant, TenantFacts) else Formats()


@pass_context
def money(context: Context, amount: Amount | None, currency: str | None = None) -> str:
    """An amount in the tenant's currency (or `currency`, an order's own), locale-written."""
    return _formats(context).money(amount, currency)


@pass_context
def number(context: Context, value: Amount | None) -> str:
    return _formats(context).number(value)


@pass_context
def percent(context: Context, ratio: Amount | None, digits: int = 2, signed: bool = False) -> str:
    """`ratio` as a percentage; `signed` puts a + before a rise (changes against before)."""
    text = _formats(context).percent(ratio, digits=digits)
    return "+" + text if signed and ratio is not None and ratio > 0 else text


def role_option(role: Role) -> tuple[str, str]:
    return role.value, role.value.replace("_", " ").capitalize()


def without_cursor(query: QueryParams) -> str:
    return urlencode([(k, v) for k, v in query.multi_items() if k != "cursor"])


def with_cursor(query: QueryParams, cursor: str) -> str:
    return urlencode(
        [*((k, v) for k, v in query.multi_items() if k != "cursor"), ("cursor", cursor)]
    )


def form_state(**values: str) -> FormState:
    return FormState(values=values)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mercato.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        static_url=static_url,
        htmx_file=HTMX_FILE,
        csrf_field=CSRF_FIELD,
        version=__version__,
        line_chart=charts.line_chart,
        bar_chart=charts.bar_chart,
        funnel_chart=charts.funnel_chart,
        form_state=form_state,
    )
    env.filters.update(
        when=when,
        display=display,
        money=money,
        number=number,
        percent=percent,
        role_option=role_option,
        without_cursor=without_cursor,
        with_cursor=with_cursor,
    )
    return env


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def theme(request: Request) -> str | None:
    """The theme the person picked with the toggle; None follows the system setting."""
    chosen = request.cookies.get("mercato_theme")
    return chosen if chosen in THEMES else None


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render a template into a response that is never cached and loads nothing foreign."""
    base = {
        "request": request,
        "csrf_token": csrf_token(request),
        "theme": theme(request),
        "current_path": request.url.path,
    }
    html = environment().get_template(template).render({**base, **context})
    response = HTMLResponse(html, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    response.headers["content-security-policy"] = content_security_policy()
    remember_csrf_token(request, response)
    return response
