"""Mercato tracking events → a GA4 BigQuery export (`events_YYYYMMDD.json[.gz]` per day).

The other direction of `mercato.modules.tracking.ga4`, so the GA4 importer can be
exercised on simulated data and the two checked against each other: writing events and
reading them back keeps the count per type, the revenue to the cent, users, sessions and
timestamps.

Rows look like `bq extract` output: INT64 as JSON strings are not reproduced (plain
numbers are written; the reader takes both). Adjacent purchase lines of one order become
one purchase row with `items[]` and `ecommerce.purchase_revenue`; adjacent impressions of
one list become one view_item_list row. Days are UTC days (GA4 uses the property's time
zone). Session ids of the simulator's form `<id>-<digits>` are split into user_pseudo_id
and `ga_session_id`, so they read back unchanged; other session ids get a stable numeric
`ga_session_id`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from mercato.modules.tracking import TrackedEvent, parse_timestamp_us

GA4_NAMES = {
    "page_view": "page_view",
    "view_item": "view_item",
    "search": "view_search_results",
    "add_to_cart": "add_to_cart",
    "remove_from_cart": "remove_from_cart",
    "begin_checkout": "begin_checkout",
    "purchase": "purchase",
    "impression": "view_item_list",
    "click": "select_item",
}
SHOP_URL = "https://demo-shop.example"
_SESSION = re.compile(r"(.+)-([0-9]{1,18})")
# Properties written as GA4's own fields instead of as custom event parameters.
_NATIVE_PROPERTIES = frozenset(
    {"page", "device", "session_number", "position", "order_id", "order_revenue", "value"}
)


def write_ga4_export(
    events: Iterable[TrackedEvent],
    directory: Path,
    *,
    compress: bool = True,
    products: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Write `events` (in time order) as one export file per UTC day; return the files.

    `products` (product_id → product document) adds item names, brands and categories.
    Existing files for the same days are replaced.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, io.BufferedIOBase] = {}
    paths: dict[str, Path] = {}
    try:
        for group in _rows_of(events):
            row = ga4_row(group, products or {})
            day = row["event_date"]
            handle = files.get(day)
            if handle is None:
                path = directory / f"events_{day}.json{'.gz' if compress else ''}"
                handle = gzip.GzipFile(path, "wb", mtime=0) if compress else path.open("wb")
                files[day], paths[day] = handle, path
            handle.write(json.dumps(row, separators=(",", ":")).encode() + b"\n")
    finally:
        for handle in files.values():
            handle.close()
    return [paths[day] for day in sorted(paths)]


def _rows_of(events: Iterable[TrackedEvent]) -> Iterator[list[TrackedEvent]]:
    """Events grouped into rows: an order's lines, or one list's impressions, together."""
    pending: list[TrackedEvent] = []
    pending_key: tuple[Any, ...] | None = None
    for event in events:
        key = _row_key(event)
        if pending and key is not None and key == pending_key:
            pending.append(event)
            continue
        if pending:
            yield pending
        pending, pending_key = [event], key
    if pending:
        yield pending


def _row_key(event: TrackedEvent) -> tuple[Any, ...] | None:
    kind = event.get("type")
    if kind == "purchase":
        order_id = event.get("properties", {}).get("order_id")
        return None if order_id is None else (kind, event.get("session_id"), order_id)
    if kind == "impression":
        return (
            kind,
            event.get("session_id"),
            event.get("timestamp"),
            event.get("placement"),
            event.get("strategy"),
            event.get("experiment_id"),
            event.get("variant"),
        )
    return None


def ga4_row(group: list[TrackedEvent], products: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The export row for one event, or for the lines of one order / one list."""
    first = group[0]
    kind = first["type"]
    micros = parse_timestamp_us(first["timestamp"])
    user_id = first["user_id"]
    pseudo, params = user_id, []
    if "session_id" in first:
        pseudo, ga_session = split_session_id(first["session_id"], user_id)
        params.append(param_record("ga_session_id", ga_session))
    properties = first.get("properties", {})
    params += _event_params(first, properties)
    row: dict[str, Any] = {
        "event_date": datetime.fromtimestamp(micros // 1_000_000, UTC).strftime("%Y%m%d"),
        "event_timestamp": micros,
        "event_name": GA4_NAMES[kind],
        "event_params": params,
        "user_id": user_id,
        "user_pseudo_id": pseudo,
        "platform": "WEB",
    }
    if "device" in properties:
        row["device"] = {"category": properties["device"]}
    if "product_id" in first:
        row["items"] = [_item(event, products) for event in group]
    if kind == "purchase":
        revenue = sum((Decimal(event.get("revenue", "0")) for event in group), Decimal("0"))
        row["event_params"].append(param_record("value", revenue))
        row["ecommerce"] = {
            "transaction_id": properties.get("order_id"),
            "purchase_revenue": float(revenue),
            "total_item_quantity": sum(event.get("quantity", 1) for event in group),
            "unique_items": len(group),
        }
    return row


def _event_params(event: TrackedEvent, properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    params = []
    if "page" in properties:
        params.append(param_record("page_location", SHOP_URL + str(properties["page"])))
    if "session_number" in properties:
        params.append(param_record("ga_session_number", properties["session_number"]))
    if "query" in event:
        params.append(param_record("search_term", event["query"]))
    if "value" in properties:
        params.append(param_record("value", Decimal(str(properties["value"]))))
    for field in ("results_count", "currency", "strategy", "experiment_id", "variant"):
        if field in event:
            params.append(param_record(field, event[field]))
    if "location_code" in event:
        params.append(param_record("location_id", event["location_code"]))
    if "placement" in event:
        params.append(param_record("item_list_name", event["placement"]))
    for key, value in properties.items():
        if key not in _NATIVE_PROPERTIES and value is not None:
            params.append(param_record(key, value))
    return params


def _item(event: TrackedEvent, products: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    product_id = event["product_id"]
    item: dict[str, Any] = {"item_id": product_id, "quantity": event.get("quantity", 1)}
    if "price" in event:
        item["price"] = float(Decimal(event["price"]))
    if "revenue" in event:
        item["item_revenue"] = float(Decimal(event["revenue"]))
    if "placement" in event:
        item["item_list_name"] = event["placement"]
    position = event.get("properties", {}).get("position")
    if position is not None:
        item["item_list_index"] = position
    product = products.get(product_id)
    if product:
        item["item_name"] = product.get("name")
        item["item_brand"] = product.get("brand")
        levels = str(product.get("category") or "").split(" > ")
        for level, name in enumerate(levels[:5], start=1):
            item["item_category" if level == 1 else f"item_category{level}"] = name
    return item


def split_session_id(session_id: str, user_id: str) -> tuple[str, int]:
    """(user_pseudo_id, ga_session_id) that `ga4` maps back to `session_id` when it can."""
    match = _SESSION.fullmatch(session_id)
    if match:
        return match.group(1), int(match.group(2))
    digest = hashlib.sha256(session_id.encode()).digest()
    return user_id, int.from_bytes(digest[:4], "big") >> 1


def param_record(key: str, value: Any) -> dict[str, Any]:
    """An event_params entry typed the way the export types it."""
    if isinstance(value, bool | str):
        return {"key": key, "value": {"string_value": str(value)}}
    if isinstance(value, int):
        return {"key": key, "value": {"int_value": value}}
    if isinstance(value, float | Decimal):
        return {"key": key, "value": {"double_value": float(value)}}
    return {"key": key, "value": {"string_value": json.dumps(value, default=str)}}
