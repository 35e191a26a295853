"""Feed work at catalog scale: precheck, RSS rendering and category suggestions.

    .venv/bin/python bench/channels_feed.py [--items 100000]

Baselines measured in the same run: touching every item's fields once (the least any
check must do) for precheck and rendering, one taxonomy lookup by id for suggestions, and
for the streamed renderer's peak memory the same feed built as one ElementTree document
(what a feed that is not streamed holds).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from results import add_json_option, figure, write_json
from rich.console import Console
from rich.table import Table

from mercato.modules.channels import (
    FeedChannel,
    TaxonomyIndex,
    feed_values,
    precheck,
    read_taxonomy_file,
    render_rss,
    suggest_categories,
)
from mercato.modules.channels.feeds.item import FeedItem

BENCH = {
    "order": 80,
    "quick": ["--items", "20000"],
    "full": ["--items", "100000"],
}
TAXONOMY = (
    Path(__file__).resolve().parents[2] / "shared/data/google-product-taxonomy-with-ids.en-US.txt"
)


def items(count: int) -> list[FeedItem]:
    base = FeedItem(
        product_id="SKU-0",
        name="Oslo 3-seat sofa, grey",
        description="A deep three-seat sofa with removable covers.",
        link="https://shop.example.com/p/SKU-0",
        image_url="https://cdn.example.com/img/SKU-0.jpg",
        price=Decimal("899.00"),
        currency="EUR",
        brand="Nordhus",
        gtin="4006381333931",
        mpn="NH-OSLO-3",
        condition="new",
        stock_quantity=4,
        google_category_id=460,
    )
    defects = [{}, {"image_url": None}, {"gtin": "4006381333932"}, {"google_category_id": None}]
    return [replace(base, product_id=f"SKU-{i}", **defects[i % len(defects)]) for i in range(count)]


def timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def peak_bytes(work: object) -> int:
    tracemalloc.start()
    work()  # type: ignore[operator]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def element_tree_feed(batch: list[FeedItem]) -> bytes:
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    for item in batch:
        node = ET.SubElement(channel, "item")
        for name, value in feed_values(item).items():
            ET.SubElement(node, name).text = value
    return ET.tostring(rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    add_json_option(parser)
    args = parser.parse_args()
    batch = items(args.items)
    touch = timed(lambda: [(i.product_id, i.name, i.price, i.link, i.gtin) for i in batch])
    check = timed(lambda: precheck(batch))
    channel = FeedChannel(title="Bench", link="https://shop.example", description="bench")
    render = timed(lambda: sum(len(chunk) for chunk in render_rss(batch, channel)))
    streamed = peak_bytes(lambda: sum(len(chunk) for chunk in render_rss(iter(batch), channel)))
    whole = peak_bytes(lambda: element_tree_feed(batch))
    index = TaxonomyIndex(read_taxonomy_file(TAXONOMY))
    names = [f"Model {i} corner sofa with chaise" for i in range(50)]
    lookup = timed(lambda: [index.get(635) for _ in range(100)]) / 100
    suggest = (
        timed(lambda: [suggest_categories("Furniture > Sofas", names, index) for _ in range(100)])
        / 100
    )

    table = Table(title=f"Feed work on {args.items:,} items")
    for column in ("figure", "value", "baseline", "ratio"):
        table.add_column(column, justify="right" if column != "figure" else "left")
    table.add_row(
        "precheck", f"{check:.2f} s", f"touch fields {touch:.3f} s", f"{check / touch:.0f}x"
    )
    table.add_row(
        "RSS render", f"{render:.2f} s", f"touch fields {touch:.3f} s", f"{render / touch:.0f}x"
    )
    table.add_row(
        "RSS render, peak memory",
        f"{streamed / 2**20:.1f} MiB",
        f"one ElementTree document {whole / 2**20:.0f} MiB",
        f"{streamed / whole:.4f}x",
    )
    table.add_row(
        "one suggestion",
        f"{suggest * 1000:.2f} ms",
        f"id lookup {lookup * 1e6:.1f} µs",
        f"{suggest / lookup:.0f}x",
    )
    Console().print(table)
    touch_baseline = ("touch every item's fields", touch)
    write_json(
        args.json,
        [
            figure(f"precheck, {args.items:,} items", check, "s", baseline=touch_baseline),
            figure(f"RSS render, {args.items:,} items", render, "s", baseline=touch_baseline),
            figure(
                "RSS render, peak memory",
                streamed / 2**20,
                "MiB",
                baseline=("one ElementTree document", whole / 2**20),
            ),
            figure(
                "one category suggestion",
                suggest * 1000,
                "ms",
                baseline=("taxonomy id lookup", lookup * 1000),
            ),
        ],
    )


if __name__ == "__main__":
    main()
