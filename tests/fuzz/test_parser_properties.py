"""Property tests for the parsers on main that had only example tests.

- Markdown: any mix of Markdown syntax, raw HTML and the known attack fragments renders
  to HTML with nothing a browser would execute, and the sanitiser's output is a fixed
  point (cleaning it again changes nothing, so there is no mutation left to exploit).
- Feed precheck: any item, however malformed, gets a verdict rather than an exception;
  counts add up, every issue names its item, and `valid_items` keeps exactly the items
  without errors.
(GA4 rows already have property tests in tests/modules/tracking/test_ga4.py.)
"""

from __future__ import annotations

from decimal import Decimal

import nh3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mercato.modules.channels.feeds.item import FeedItem
from mercato.modules.channels.feeds.precheck import blocks_item, check_item, precheck, valid_items
from mercato.modules.content import render_markdown
from mercato.modules.content.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES
from tests.modules.content.test_hostile_markdown import HOSTILE, executable_parts

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

MARKDOWN_PIECES = [
    *HOSTILE.values(),
    "**", "_", "`", "```\n", "\n\n", "# ", "> ", "- ", "1. ", "[", "](", ")", "![", "<", ">",
    "</", "/>", '"', "'", "=", "&#", "&#x", ";", "javascript", ":", "on", "error", "load",
    "href", "src", "style", "script", "svg", "img", "a", "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "<details><summary>s</summary>", "</details>", "\\", "\t", "\x00", "\u202e",
]  # fmt: skip
markdown_documents = st.lists(
    st.sampled_from(MARKDOWN_PIECES) | st.text(max_size=12), max_size=40
).map("".join)


@PROPERTY_SETTINGS
@given(body=markdown_documents)
def test_rendered_markdown_never_holds_anything_executable(body: str) -> None:
    html = render_markdown(body)
    assert executable_parts(html) == []


@PROPERTY_SETTINGS
@given(body=markdown_documents)
def test_sanitised_html_is_a_fixed_point_of_the_sanitiser(body: str) -> None:
    html = render_markdown(body)
    again = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    assert again == html


texts = st.none() | st.text(max_size=60) | st.sampled_from(["x" * 151, "y" * 5001, "  ", "a\nb"])
urls = (
    st.none()
    | st.sampled_from(
        [
            "https://shop.example/p/1",
            "http://shop.example/p?x=1",
            "ftp://shop.example/p",
            "/relative/path",
            "https://",
            "javascript:alert(1)",
            "https://shop.example/" + "x" * 2100,
            " https://shop.example/space",
        ]
    )
    | st.text(max_size=30)
)
money = (
    st.none()
    | st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=2)
    | st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("0")])  # NUMERIC has NaN
)
feed_items = st.builds(
    FeedItem,
    product_id=st.text(max_size=60),
    name=texts,
    description=texts,
    link=urls,
    image_url=urls,
    price=money,
    currency=st.none() | st.sampled_from(["EUR", "eur", "XXX", "EURO", ""]) | st.text(max_size=4),
    sale_price=money,
    brand=texts,
    gtin=st.none() | st.from_regex(r"\d{0,15}", fullmatch=True) | st.text(max_size=16),
    mpn=texts,
    condition=st.none() | st.sampled_from(["new", "used", "refurbished", "NEW", "broken"]),
    available=st.none() | st.booleans(),
    availability=st.none() | st.sampled_from(["in_stock", "out_of_stock", "preorder", "soon"]),
    availability_date=st.none() | st.dates() | st.datetimes(),
    item_group_id=st.none() | st.text(max_size=60),
    is_variant=st.booleans(),
    google_category_id=st.none() | st.integers(-5, 600_000),
    stock_quantity=st.none() | st.integers(-10, 10_000),
)  # fmt: skip
SEVERITIES = {"error", "warning", "info"}


@PROPERTY_SETTINGS
@given(item=feed_items, known=st.none() | st.frozensets(st.integers(0, 600_000), max_size=5))
def test_any_item_gets_a_verdict_naming_it(item: FeedItem, known: frozenset[int] | None) -> None:
    issues = check_item(item, known)
    for issue in issues:
        assert issue.product_id == item.product_id
        assert issue.severity in SEVERITIES
        assert issue.code
        assert issue.code == issue.code.strip().lower()
        assert issue.message


@PROPERTY_SETTINGS
@given(items=st.lists(feed_items, max_size=12))
def test_counts_add_up_and_valid_items_are_exactly_those_without_errors(
    items: list[FeedItem],
) -> None:
    result = precheck(items)
    assert result.checked == len(items)
    assert result.valid + result.invalid == result.checked
    assert {issue.product_id for issue in result.issues} <= {item.product_id for item in items}
    kept = list(valid_items(items))
    assert kept == [item for item in items if not blocks_item(check_item(item))]
    ids = [item.product_id for item in items]
    if len(set(ids)) == len(ids):
        assert result.valid == len(kept)
    else:
        assert any(issue.code == "duplicate_id" for issue in result.issues)
        assert result.valid <= len(kept)
