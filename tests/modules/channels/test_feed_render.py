from __future__ import annotations

import csv
import io
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal

from mercato.modules.channels import (
    FEED_ATTRIBUTES,
    FeedChannel,
    FeedItem,
    render_rss,
    render_tsv,
    valid_items,
)
from tests.modules.channels.factories import VALID_GTIN, clean_item

G = "{http://base.google.com/ns/1.0}"
CHANNEL = FeedChannel("Nordhus & Co <Oslo>", "https://shop.example.com/", "All products")


def parse_rss(chunks: Iterator[bytes]) -> ET.Element:
    root = ET.fromstring(b"".join(chunks))
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    return channel


def items_by_id(channel: ET.Element) -> dict[str, ET.Element]:
    return {item.findtext(f"{G}id", ""): item for item in channel.findall("item")}


class TestRss:
    def test_the_feed_holds_exactly_the_valid_items(self) -> None:
        items = [
            clean_item("ok-1"),
            clean_item("no-image", image_url=None),
            clean_item("bad-gtin", gtin="4006381333932"),
            clean_item("long-title", name="t" * 151),
            clean_item("free", price=Decimal("0")),
            clean_item("preorder", availability="preorder"),
            clean_item("unaligned", google_category_id=None),
            clean_item("ok-2"),
        ]
        channel = parse_rss(render_rss(valid_items(items), CHANNEL))
        assert channel.findtext("title") == "Nordhus & Co <Oslo>"
        assert channel.findtext("link") == "https://shop.example.com/"
        assert sorted(items_by_id(channel)) == ["ok-1", "ok-2", "unaligned"]
        assert len(channel.findall("item")) == 3
        assert items_by_id(channel)["unaligned"].find(f"{G}google_product_category") is None

    def test_an_item_carries_the_merchant_center_attributes(self) -> None:
        item = clean_item(
            "SKU-9", sale_price=Decimal("749.5"), is_variant=True, item_group_id="OSLO"
        )
        rendered = items_by_id(parse_rss(render_rss([item], CHANNEL)))["SKU-9"]
        assert rendered.findtext("title") == "Oslo 3-seat sofa, grey"
        assert rendered.findtext("link") == "https://shop.example.com/p/SKU-9"
        assert rendered.findtext("description") == item.description
        assert {child.tag.removeprefix(G): child.text for child in rendered if G in child.tag} == {
            "id": "SKU-9",
            "image_link": "https://cdn.example.com/img/SKU-9.jpg",
            "availability": "in_stock",
            "price": "899.00 EUR",
            "sale_price": "749.5 EUR",
            "condition": "new",
            "brand": "Nordhus",
            "gtin": VALID_GTIN,
            "mpn": "NH-OSLO-3",
            "item_group_id": "OSLO",
            "google_product_category": "460",
        }

    def test_derived_values_match_the_precheck_rules(self) -> None:
        items = [
            clean_item("custom", gtin=None, mpn=None, brand=None, stock_quantity=0),
            clean_item(
                "pre",
                availability="preorder",
                availability_date=date(2031, 3, 1),
                sale_price=Decimal("999"),
                condition="Used",
            ),
        ]
        rendered = items_by_id(parse_rss(render_rss(items, CHANNEL)))
        custom = rendered["custom"]
        assert custom.findtext(f"{G}identifier_exists") == "no"
        assert custom.findtext(f"{G}availability") == "out_of_stock"
        assert custom.find(f"{G}gtin") is None
        assert custom.find(f"{G}brand") is None
        pre = rendered["pre"]
        assert pre.findtext(f"{G}availability") == "preorder"
        assert pre.findtext(f"{G}availability_date") == "2031-03-01T00:00:00Z"
        assert pre.findtext(f"{G}condition") == "used"
        assert pre.find(f"{G}sale_price") is None
        assert pre.find(f"{G}identifier_exists") is None

    def test_hostile_characters_are_escaped_or_dropped(self) -> None:
        title = 'Tom & Jerry <script>alert("x")</script> ]]> \x00\x07\x1b\ud800 café ☕ 🛋'
        description = "Line one\nline two\ttabbed & <b>bold</b> \x0b\x0c end"
        item = clean_item("A&B<1>", name=title, description=description)
        rendered = items_by_id(parse_rss(render_rss([item], CHANNEL)))
        assert list(rendered) == ["A&B<1>"]
        assert rendered["A&B<1>"].findtext("title") == (
            'Tom & Jerry <script>alert("x")</script> ]]>  café ☕ 🛋'
        )
        assert rendered["A&B<1>"].findtext("description") == (
            "Line one\nline two\ttabbed & <b>bold</b>  end"
        )

    def test_an_empty_catalog_is_a_valid_empty_feed(self) -> None:
        channel = parse_rss(render_rss([], CHANNEL))
        assert channel.findall("item") == []

    def test_large_feeds_come_in_bounded_chunks(self) -> None:
        items = (clean_item(f"SKU-{i}") for i in range(3_000))
        chunks = list(render_rss(items, CHANNEL))
        assert len(chunks) > 10
        assert max(len(chunk) for chunk in chunks) < 80 * 1024
        assert len(items_by_id(parse_rss(iter(chunks)))) == 3_000


class TestTsv:
    def test_a_header_row_then_one_row_per_item(self) -> None:
        items = [
            clean_item("A", description="multi\nline\twith tab\r\nand CR"),
            clean_item("B", gtin=None, mpn=None, brand=None),
        ]
        text = b"".join(render_tsv(items)).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
        assert rows[0] == list(FEED_ATTRIBUTES)
        assert len(rows) == 3
        first = dict(zip(rows[0], rows[1], strict=True))
        assert first["id"] == "A"
        assert first["description"] == "multi line with tab  and CR"
        assert first["price"] == "899.00 EUR"
        assert first["gtin"] == VALID_GTIN
        assert first["identifier_exists"] == ""
        second = dict(zip(rows[0], rows[2], strict=True))
        assert (second["gtin"], second["brand"], second["identifier_exists"]) == ("", "", "no")


def test_a_hundred_thousand_items_stream_without_reading_ahead() -> None:
    """Each chunk is yielded as soon as it fills: the renderer never holds more than the
    items of the chunk it is writing, whatever the size of the catalog."""
    base = clean_item()
    consumed = 0

    def catalog() -> Iterator[FeedItem]:
        nonlocal consumed
        for i in range(100_000):
            consumed += 1
            yield replace(base, product_id=f"SKU-{i}")

    total_bytes = 0
    emitted = 0
    for chunk in render_rss(catalog(), CHANNEL):
        emitted += chunk.count(b"<item>")
        total_bytes += len(chunk)
        assert len(chunk) < 80 * 1024
        assert consumed - emitted <= 1
    assert emitted == consumed == 100_000
    assert total_bytes > 40_000_000


def test_rendering_memory_stays_flat_while_the_feed_grows() -> None:
    base = clean_item()
    items = (replace(base, product_id=f"SKU-{i}") for i in range(20_000))
    tracemalloc.start()
    try:
        total_bytes = sum(len(chunk) for chunk in render_tsv(items))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total_bytes > 4_000_000
    assert peak < 1_000_000, f"peak {peak / 1e6:.2f} MB for a {total_bytes / 1e6:.0f} MB feed"
