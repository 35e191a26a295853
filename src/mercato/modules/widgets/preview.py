"""The server-rendered widget: what the merchant sees in the dashboard preview, built from
the same configuration and class names the JS SDK uses on their site."""

from __future__ import annotations

from functools import cache

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


def render_preview(widget: WidgetRead, recommendations: RecommendationList) -> str:
    """A complete HTML page holding the widget filled with `recommendations`."""
    return (
        _templates()
        .get_template("preview.html")
        .render(
            widget=widget,
            theme=widget.theme,
            items=recommendations.data[: widget.max_items],
            recommendations=recommendations,
        )
    )
