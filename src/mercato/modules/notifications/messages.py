"""Render a notification from its template for an event and a locale.

Templates live in `templates/<locale>/<event>.txt` and extend that locale's `_layout.txt`;
each defines three blocks: `subject` and `body` (e-mail), `short` (SMS and push). A
locale without a template for the event falls back to its language, then to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, Template, TemplateNotFound

FALLBACK_LOCALE = "en"
SHORT_LIMIT = 480  # SMS gateways split beyond this; push titles are shorter still


@dataclass(frozen=True)
class Message:
    locale: str
    subject: str
    body: str
    short: str


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain text out (e-mail text part, SMS, push), so no HTML autoescaping; values the
    # templates use but a payload lacks render empty rather than failing the event.
    return Environment(
        loader=PackageLoader("mercato.modules.notifications", "templates"),
        autoescape=False,  # noqa: S701 - text/plain messages, never HTML
        keep_trailing_newline=False,
    )


def locale_chain(locale: str | None) -> list[str]:
    """`de-AT` → [`de-at`, `de`, `en`]: the most specific template available wins."""
    chain: list[str] = []
    if locale:
        normalised = locale.strip().lower().replace("_", "-")
        chain += [normalised, normalised.split("-", 1)[0]]
    chain.append(FALLBACK_LOCALE)
    return list(dict.fromkeys(part for part in chain if part))


def _template(event: str, locale: str | None) -> tuple[str, Template]:
    for candidate in locale_chain(locale):
        try:
            return candidate, _environment().get_template(f"{candidate}/{event}.txt")
        except TemplateNotFound:
            continue
    raise TemplateNotFound(f"{FALLBACK_LOCALE}/{event}.txt")


def _blocks(template: Template, values: dict[str, Any]) -> dict[str, str]:
    """Each block, as overridden by the event template or else from the layout.

    Running the root render registers the layout's blocks under the template's own
    (that is how `extends` works); the first entry of each stack is the most specific.
    """
    context = template.new_context(values)
    for _ in template.root_render_func(context):
        pass
    return {
        name: "".join(context.blocks[name][0](context)).strip()
        for name in ("subject", "body", "short")
    }


def render_message(
    event: str, locale: str | None, *, tenant: str, payload: dict[str, Any]
) -> Message:
    """Subject, e-mail body and short text for one event in the best available locale."""
    chosen, template = _template(event, locale)
    values = {"tenant": tenant, "event": event, "summary": payload["summary"], "payload": payload}
    blocks = _blocks(template, values)
    return Message(
        locale=chosen,
        subject=" ".join(blocks["subject"].split()),
        body=blocks["body"] + "\n",
        short=" ".join(blocks["short"].split())[:SHORT_LIMIT],
    )
