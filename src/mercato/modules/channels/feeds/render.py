"""The hosted product feed, as RSS 2.0 (Google's `g:` namespace) or TSV, rendered as a stream.

Merchant Center fetches the feed on a schedule; a tenant may have 100,000 products, so the
renderers are generators of UTF-8 byte chunks (about 64 KiB each) that consume their items
lazily, and `stream_rss`/`stream_tsv` do the same over an async source: the route streams
them straight from the database and memory stays flat. The renderers print what they are
given; callers pass only valid items so the feed holds exactly the items without blocking
issues.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

from mercato.modules.channels.feeds.item import (
    AVAILABILITIES_NEEDING_DATE,
    FeedItem,
    availability_timestamp,
    effective_availability,
    effective_condition,
    has_unique_identifiers,
    valid_gtin,
)

GOOGLE_NAMESPACE = "http://base.google.com/ns/1.0"
CHUNK_BYTES = 64 * 1024

# Merchant Center attribute names, in the order of the TSV columns.
FEED_ATTRIBUTES = (
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "availability",
    "availability_date",
    "price",
    "sale_price",
    "condition",
    "brand",
    "gtin",
    "mpn",
    "identifier_exists",
    "item_group_id",
    "google_product_category",
)
# Core RSS elements; every other attribute is written in the g: namespace.
_RSS_ELEMENTS = frozenset({"title", "description", "link"})

# Characters XML 1.0 forbids (and lone surrogates, which cannot be encoded at all).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TSV_BREAKING = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class FeedChannel:
    """The RSS `<channel>` header: the shop's name, home page and a line about the feed."""

    title: str
    link: str
    description: str


def feed_values(item: FeedItem) -> dict[str, str]:
    """The item's Merchant Center attributes as text, leaving out the ones with no value.

    The same rules as the precheck: availability derived from stock, a sale price only when
    it is below the price, a GTIN only when its check digit is right, and
    `identifier_exists = no` when neither a GTIN nor brand + MPN identify the product.
    """
    currency = (item.currency or "").strip().upper()
    gtin = valid_gtin(item)
    values = {
        "id": item.product_id.strip(),
        "title": (item.name or "").strip(),
        "description": (item.description or "").strip(),
        "link": (item.link or "").strip(),
        "image_link": (item.image_url or "").strip(),
        "availability": effective_availability(item) or "",
        "condition": effective_condition(item),
        "brand": (item.brand or "").strip(),
        "gtin": gtin or "",
        "mpn": (item.mpn or "").strip(),
        "item_group_id": (item.item_group_id or "").strip(),
    }
    if item.price is not None:
        values["price"] = f"{item.price:f} {currency}"
        sale_price = item.sale_price
        if sale_price is not None and sale_price.is_finite() and 0 < sale_price < item.price:
            values["sale_price"] = f"{sale_price:f} {currency}"
    if item.availability_date is not None and values["availability"] in (
        AVAILABILITIES_NEEDING_DATE
    ):
        values["availability_date"] = availability_timestamp(item.availability_date)
    if not has_unique_identifiers(item, gtin):
        values["identifier_exists"] = "no"
    if item.google_category_id is not None:
        values["google_product_category"] = str(item.google_category_id)
    return {name: values[name] for name in FEED_ATTRIBUTES if values.get(name)}


_RSS_TAIL = "</channel>\n</rss>\n"
_TSV_HEAD = "\t".join(FEED_ATTRIBUTES) + "\n"


def render_rss(items: Iterable[FeedItem], channel: FeedChannel) -> Iterator[bytes]:
    """RSS 2.0 with `xmlns:g`, one `<item>` per item, in chunks of about 64 KiB."""
    rows = (_rss_item(item) for item in items)
    yield from _chunked(_rss_head(channel), rows, _RSS_TAIL)


def render_tsv(items: Iterable[FeedItem]) -> Iterator[bytes]:
    """Tab-separated values with a header row of Merchant Center attribute names."""
    rows = (_tsv_row(item) for item in items)
    yield from _chunked(_TSV_HEAD, rows, "")


async def stream_rss(items: AsyncIterable[FeedItem], channel: FeedChannel) -> AsyncIterator[bytes]:
    """`render_rss` over an async source (a database read), byte for byte the same output."""
    rows = (_rss_item(item) async for item in items)
    async for chunk in _chunked_async(_rss_head(channel), rows, _RSS_TAIL):
        yield chunk


async def stream_tsv(items: AsyncIterable[FeedItem]) -> AsyncIterator[bytes]:
    """`render_tsv` over an async source."""
    rows = (_tsv_row(item) async for item in items)
    async for chunk in _chunked_async(_TSV_HEAD, rows, ""):
        yield chunk


def _rss_head(channel: FeedChannel) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{GOOGLE_NAMESPACE}">\n<channel>\n'
        f"<title>{_xml_text(channel.title)}</title>\n"
        f"<link>{_xml_text(channel.link)}</link>\n"
        f"<description>{_xml_text(channel.description)}</description>\n"
    )


def _rss_item(item: FeedItem) -> str:
    parts = ["<item>"]
    for name, value in feed_values(item).items():
        tag = name if name in _RSS_ELEMENTS else f"g:{name}"
        parts.append(f"<{tag}>{_xml_text(value)}</{tag}>")
    parts.append("</item>\n")
    return "".join(parts)


def _tsv_row(item: FeedItem) -> str:
    values = feed_values(item)
    return "\t".join(_tsv_text(values.get(name, "")) for name in FEED_ATTRIBUTES) + "\n"


def _chunked(head: str, rows: Iterable[str], tail: str) -> Iterator[bytes]:
    buffer = [head]
    size = len(head)
    for row in rows:
        buffer.append(row)
        size += len(row)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode("utf-8")
            buffer.clear()
            size = 0
    buffer.append(tail)
    yield "".join(buffer).encode("utf-8")


async def _chunked_async(head: str, rows: AsyncIterable[str], tail: str) -> AsyncIterator[bytes]:
    buffer = [head]
    size = len(head)
    async for row in rows:
        buffer.append(row)
        size += len(row)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode("utf-8")
            buffer.clear()
            size = 0
    buffer.append(tail)
    yield "".join(buffer).encode("utf-8")


def _xml_text(value: str) -> str:
    if _XML_SPECIAL.search(value) is None:  # most values: one scan, no copies
        return value
    cleaned = _XML_ILLEGAL.sub("", value)
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tsv_text(value: str) -> str:
    """A TSV cell cannot hold tabs or line breaks; they and other controls become spaces."""
    return _TSV_BREAKING.sub(" ", value)
