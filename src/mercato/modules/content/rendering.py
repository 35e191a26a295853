"""Markdown → HTML that is safe to put in a storefront page.

Two stages, each a well-kept library: markdown-it-py renders CommonMark (raw HTML
allowed, so merchants can use `<details>` or a `<table>`), then nh3 (the Rust `ammonia`
sanitizer) keeps only an allowlist of tags, attributes and URL schemes. Scripts, event
handlers, `style`, frames, SVG/MathML, forms and `javascript:`/`data:` URLs never survive
the second stage, whatever the first produced.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl",
        "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
        "img", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render_markdown(body: str) -> str:
    """Sanitized HTML for `body`; links get `rel="noopener noreferrer nofollow"`."""
    return nh3.clean(
        _markdown().render(body),
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
