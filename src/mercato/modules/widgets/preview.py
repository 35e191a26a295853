"""The server-rendered widget: what the merchant sees in the dashboard preview, built from
the same configuration and class names the JS SDK uses on their site."""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape

from mercato.modules.recommendations import RecommendationList
from mercato.modules.widgets.schemas import WidgetRead


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("mercato.modules.widgets", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def product_link(widget: WidgetRead, product_id: str) -> str:
    """Where the CTA of a product leads: the widget's `product_url` with the id filled in."""
    if widget.product_url is None:
        return "#"
    return widget.product_url.replace("{product_id}", quote(product_id, safe=""))


def render_preview(widget: WidgetRead, recommendations: RecommendationList) -> str:
    """A complete HTML page holding the widget filled with `recommendations`."""
    template = _templates().get_template("preview.html")
    return template.render(
        widget=widget,
        theme=widget.theme,
        items=recommendations.data[: widget.max_items],
        recommendations=recommendations,
        link=lambda product_id: product_link(widget, product_id),
    )
