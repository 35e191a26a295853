"""GA4 BigQuery-export rows → Mercato tracking events.

Reads the `events_YYYYMMDD` rows that `bq extract` writes as newline-delimited JSON
(plain or gzip), one line at a time, and maps each row to zero or more `TrackedEvent`s:

- names: page_view, view_item, add_to_cart, remove_from_cart, begin_checkout and
  purchase keep theirs; view_search_results and search → search (`search_term` → query);
  view_item_list and view_promotion → impression; select_item and select_promotion →
  click. Other GA4 events (session_start, scroll, …) are skipped and counted.
- one event per item for view_item, add_to_cart, remove_from_cart, purchase, impression
  and click; a purchase's revenue is spread over its lines as event_doc describes (each
  line gets its share of `purchase_revenue`, in proportion to the line value, to the cent).
- `user_id` when set, else `user_pseudo_id`; session `<user_pseudo_id>-<ga_session_id>`;
  `location_id` → location_code; other event parameters, device, geo and traffic source
  go to `properties`.
- `event_id` hashes what identifies the row (name, time, user, batch position, params),
  so importing the same export twice yields the same ids and ingestion dedupes them.

A bad row never stops an import: it is reported with its line number and reason.
BigQuery writes INT64 values as JSON strings; both strings and numbers are accepted.

A file is refused as a whole (`ExportFileRefused`) when it inflates past `ReadLimits.total`
bytes or holds a line longer than `ReadLimits.line`: a 64 MiB gzip upload can expand to
tens of gigabytes (a decompression bomb), and a line is parsed in memory at once.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from mercato.kernel.money import CENT
from mercato.modules.tracking.event_doc import TrackedEvent, format_timestamp_us

GA4_EVENT_TYPES: dict[str, str] = {
    "page_view": "page_view",
    "view_item": "view_item",
    "add_to_cart": "add_to_cart",
    "remove_from_cart": "remove_from_cart",
    "begin_checkout": "begin_checkout",
    "purchase": "purchase",
    "view_search_results": "search",
    "search": "search",
    "view_item_list": "impression",
    "view_promotion": "impression",
    "select_item": "click",
    "select_promotion": "click",
}
PER_ITEM_TYPES = frozenset(
    {"view_item", "add_to_cart", "remove_from_cart", "purchase", "impression", "click"}
)
# Parameters that become event fields rather than properties.
_CONSUMED_PARAMS = frozenset(
    {"ga_session_id", "search_term", "currency", "location_id", "results_count",
     "strategy", "experiment_id", "variant", "item_list_name", "item_list_id",
     "creative_slot", "promotion_name"}
)  # fmt: skip
_INTEGER = re.compile(r"-?[0-9]{1,30}")
_EARLIEST_US = 946_684_800_000_000  # 2000-01-01
_LATEST_US = 4_102_444_800_000_000  # 2100-01-01


class GA4RowError(ValueError):
    """A GA4 row that cannot become events; the message says why."""


class ExportFileRefused(ValueError):
    """A whole export file that will not be read (too big once decompressed, a huge line)."""


@dataclass(frozen=True)
class ReadLimits:
    total: int  # bytes of one file, decompressed
    line: int  # bytes of one line (one GA4 row)


@dataclass(frozen=True)
class RowError:
    source: str
    row: int  # line number in the file, from 1
    reason: str


@dataclass
class GA4ReadReport:
    rows: int = 0
    events: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # GA4 names with no counterpart
    errors: list[RowError] = field(default_factory=list)


def ga4_export_files(
    directory: Path, start: date | None = None, end: date | None = None
) -> list[Path]:
    """`events_YYYYMMDD.json[l][.gz]` files in `directory` dated within [start, end]."""
    return [path for path in sorted(directory.iterdir()) if dated_within(path.name, start, end)]


def dated_within(name: str, start: date | None, end: date | None) -> bool:
    """Whether `name` is an export file name (`events_YYYYMMDD…`) dated within [start, end]."""
    day = _export_date(name)
    return day is not None and (start is None or day >= start) and (end is None or day <= end)


def _export_date(name: str) -> date | None:
    stem = name.split(".")[0]
    prefix, _, digits = stem.rpartition("_")
    if prefix not in ("events", "events_intraday") or len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def read_ga4_export(
    path: Path,
    *,
    limits: ReadLimits,
    report: GA4ReadReport | None = None,
    default_currency: str | None = None,
) -> Iterator[TrackedEvent]:
    """Events from one export file, streamed; problems go to `report.errors`.

    Gzip is recognised by its magic bytes, whatever the file is called. A truncated gzip
    file yields the rows before the damage and one error for it. `ExportFileRefused` once
    the file passes `limits` (the events already yielded are the caller's to discard).
    """
    report = report if report is not None else GA4ReadReport()
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    line_number = 0
    with opener(path, "rb") as stream:
        try:
            for line_number, line in enumerate(_bounded_lines(stream, path.name, limits), 1):
                if not line.strip():
                    continue
                report.rows += 1
                yield from _row_events(line, line_number, path.name, report, default_currency)
        except (EOFError, OSError, zlib.error) as exc:
            report.errors.append(RowError(path.name, line_number + 1, f"unreadable file: {exc}"))


class _Lines(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def _bounded_lines(stream: _Lines, name: str, limits: ReadLimits) -> Iterator[bytes]:
    """The stream's lines, reading at most one line's limit ahead: never a whole bomb."""
    total = 0
    while line := stream.readline(limits.line + 2):
        total += len(line)
        if total > limits.total:
            raise ExportFileRefused(
                f"{name} is larger than {limits.total} bytes once decompressed, the most one "
                "export file may hold (MERCATO_GA4_MAX_DECOMPRESSED_BYTES)"
            )
        if len(line.rstrip(b"\r\n")) > limits.line:
            raise ExportFileRefused(
                f"{name} has a line longer than {limits.line} bytes, the most one GA4 row may "
                "hold (MERCATO_GA4_MAX_LINE_BYTES)"
            )
        yield line


def _row_events(
    line: bytes, number: int, source: str, report: GA4ReadReport, default_currency: str | None
) -> list[TrackedEvent]:
    try:
        row = json.loads(line)
    except (ValueError, RecursionError) as exc:
        report.errors.append(RowError(source, number, f"not JSON: {exc}"))
        return []
    if isinstance(row, dict) and row.get("event_name") not in GA4_EVENT_TYPES:
        report.skipped[str(row.get("event_name"))] += 1
        return []
    try:
        events = map_ga4_row(row, default_currency=default_currency)
    except GA4RowError as exc:
        report.errors.append(RowError(source, number, str(exc)))
        return []
    report.events += len(events)
    return events


def map_ga4_row(row: Any, *, default_currency: str | None = None) -> list[TrackedEvent]:
    """The events for one GA4 export row (a dict as JSON or the BigQuery client gives it).

    Returns [] for GA4 events with no Mercato counterpart; raises GA4RowError for a row
    that is malformed or lacks what its event type needs.
    """
    if not isinstance(row, dict):
        raise GA4RowError("row is not a JSON object")
    name = row.get("event_name")
    if not isinstance(name, str) or not name:
        raise GA4RowError("event_name is missing")
    kind = GA4_EVENT_TYPES.get(name)
    if kind is None:
        return []
    micros = _integer(row.get("event_timestamp"), "event_timestamp")
    if not _EARLIEST_US <= micros < _LATEST_US:
        raise GA4RowError("event_timestamp is not a time between 2000 and 2100 in microseconds")
    params = _params(row.get("event_params"))
    base = _base_event(row, kind, micros, params, default_currency)
    items = _items(row.get("items"))
    identity = _identity(row, name, micros, params)
    if kind == "purchase":
        return _purchase_events(base, row, params, items, identity)
    if kind in PER_ITEM_TYPES:
        if not items:
            raise GA4RowError(f"{name} has no items")
        return [_with_item(base, item, f"{identity}-{i}") for i, item in enumerate(items)]
    base["event_id"] = identity
    return [base]


def _base_event(
    row: dict[str, Any],
    kind: str,
    micros: int,
    params: dict[str, Any],
    default_currency: str | None,
) -> TrackedEvent:
    pseudo = _text(row.get("user_pseudo_id"))
    user = _text(row.get("user_id")) or pseudo
    if not user:
        raise GA4RowError("neither user_id nor user_pseudo_id is set")
    event: TrackedEvent = {"type": kind, "user_id": user, "timestamp": format_timestamp_us(micros)}
    if params.get("ga_session_id") is not None:
        session = _integer(params["ga_session_id"], "ga_session_id")
        event["session_id"] = f"{pseudo or user}-{session}"
    location = _text(params.get("location_id"))
    if location:
        event["location_code"] = location
    currency = _text(params.get("currency")) or default_currency
    if currency:
        event["currency"] = currency
    if kind == "search":
        query = _text(params.get("search_term"))
        if not query:
            raise GA4RowError(f"{row['event_name']} has no search_term")
        event["query"] = query
        if params.get("results_count") is not None:
            event["results_count"] = _integer(params["results_count"], "results_count")
    placement = _text(
        params.get("item_list_name") or params.get("item_list_id") or params.get("creative_slot")
    )
    placement = placement or _text(params.get("promotion_name"))
    if placement and kind in ("impression", "click"):
        event["placement"] = placement
    for name in ("strategy", "experiment_id", "variant"):
        value = _text(params.get(name))
        if value:
            event[name] = value
    event["properties"] = _properties(row, params)
    return event


def _properties(row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"ga4_event_name": row["event_name"]}
    properties.update({k: v for k, v in params.items() if k not in _CONSUMED_PARAMS})
    if _is_number(properties.get("value")):
        properties["value"] = _cents(_money(properties["value"], "value") or 0)
    for record, fields in (
        ("device", ("category", "operating_system", "language")),
        ("geo", ("country", "region", "city")),
        ("traffic_source", ("source", "medium", "name")),
    ):
        values = row.get(record)
        if not isinstance(values, dict):
            continue
        for name in fields:
            value = values.get(name)
            if isinstance(value, str) and value:
                key = "device" if (record, name) == ("device", "category") else f"{record}_{name}"
                properties[key] = value
    return properties


def _with_item(base: TrackedEvent, item: dict[str, Any], event_id: str) -> TrackedEvent:
    event: TrackedEvent = {**base, "event_id": event_id, "product_id": item["item_id"]}
    event["properties"] = dict(base["properties"])
    if item["price_cents"] is not None:
        event["price"] = _cents(item["price_cents"])
    if base["type"] in ("add_to_cart", "remove_from_cart", "purchase"):
        event["quantity"] = item["quantity"]
    list_name = item["list_name"]
    if list_name and "placement" not in base and base["type"] in ("impression", "click"):
        event["placement"] = list_name
    for key in ("item_name", "item_brand", "item_category", "item_variant"):
        if item[key]:
            event["properties"][key] = item[key]
    if item["position"] is not None:
        event["properties"]["position"] = item["position"]
    return event


def _purchase_events(
    base: TrackedEvent,
    row: dict[str, Any],
    params: dict[str, Any],
    items: list[dict[str, Any]],
    identity: str,
) -> list[TrackedEvent]:
    """A purchase row as one event per line whose revenues add up to the order's."""
    ecommerce = row.get("ecommerce")
    if not isinstance(ecommerce, dict):
        ecommerce = {}
    total = _money(ecommerce.get("purchase_revenue"), "ecommerce.purchase_revenue")
    if total is None:
        total = _money(params.get("value"), "value")
    lines = [item["line_cents"] for item in items]
    if total is None:
        if not items or any(line is None for line in lines):
            raise GA4RowError("purchase has no purchase_revenue, value or item prices")
        total = sum(line for line in lines if line is not None)
    if "currency" not in base:
        raise GA4RowError("purchase has no currency")
    order_id = _text(ecommerce.get("transaction_id")) or _text(params.get("transaction_id"))
    base["properties"].update(order_id=order_id or identity, order_revenue=_cents(total))
    base["properties"].pop("transaction_id", None)
    base["properties"].pop("value", None)
    if not items:
        return [{**base, "event_id": identity, "revenue": _cents(total)}]
    shares = _allocate(total, [line or 0 for line in lines])
    events = []
    for i, (item, share) in enumerate(zip(items, shares, strict=True)):
        event = _with_item(base, item, f"{identity}-{i}")
        event["revenue"] = _cents(share)
        events.append(event)
    return events


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` cents in proportion to `weights` so the parts add up exactly.

    Largest-remainder rounding; equal parts when the weights are all zero.
    """
    if sum(weights) == 0:
        weights = [1] * len(weights)
    scale = sum(weights)
    floors = [total * w // scale for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % scale), i))
    for i in remainders[: total - sum(floors)]:
        floors[i] += 1
    return floors


def _params(raw: Any) -> dict[str, Any]:
    """event_params as a plain dict: each key with its one non-null typed value."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise GA4RowError("event_params is not a list")
    params: dict[str, Any] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            raise GA4RowError(f"event_params[{index}] is not a key/value record")
        value = entry.get("value")
        if value is not None and not isinstance(value, dict):
            raise GA4RowError(f"event_params[{index}].value is not a record")
        params[entry["key"]] = _param_value(value or {}, entry["key"])
    return params


def _param_value(value: dict[str, Any], key: str) -> Any:
    if value.get("string_value") is not None:
        return _text(value["string_value"])
    if value.get("int_value") is not None:
        return _integer(value["int_value"], key)
    for name in ("double_value", "float_value"):
        if value.get(name) is not None:
            number = _number(value[name], key)
            return int(number) if number == number.to_integral_value() else float(number)
    return None


def _items(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise GA4RowError("items is not a list")
    items = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise GA4RowError(f"items[{index}] is not a record")
        item_id = _text(item.get("item_id"))
        if not item_id:
            raise GA4RowError(f"items[{index}] has no item_id")
        quantity = item.get("quantity")
        quantity = 1 if quantity is None else _integer(quantity, f"items[{index}].quantity")
        price = _money(item.get("price"), f"items[{index}].price")
        line = _money(item.get("item_revenue"), f"items[{index}].item_revenue")
        if line is None and price is not None:
            line = price * quantity
        position = item.get("item_list_index")
        items.append(
            {
                "item_id": item_id,
                "quantity": quantity,
                "price_cents": price,
                "line_cents": line,
                "list_name": _text(item.get("item_list_name")),
                "position": _integer(position, "item_list_index") if _is_number(position) else None,
                "item_name": _text(item.get("item_name")),
                "item_brand": _text(item.get("item_brand")),
                "item_category": _text(item.get("item_category")),
                "item_variant": _text(item.get("item_variant")),
            }
        )
    return items


def _identity(row: dict[str, Any], name: str, micros: int, params: dict[str, Any]) -> str:
    """A stable id for the row: what GA4 uses to tell two events apart."""
    parts = [name, micros, row.get("user_pseudo_id"), row.get("user_id"), row.get("stream_id")]
    parts += [row.get(k) for k in ("event_bundle_sequence_id", "batch_event_index",
                                   "batch_page_id", "batch_ordering_id")]  # fmt: skip
    parts.append(sorted(params.items()))
    digest = hashlib.blake2b(json.dumps(parts, default=str).encode(), digest_size=12)
    return f"ga4-{digest.hexdigest()}"


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, str):
        return _INTEGER.fullmatch(value.strip()) is not None
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not _is_number(value):
        raise GA4RowError(f"{name} is not an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise GA4RowError(f"{name} is not an integer")
        return int(value)
    return int(value)


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise GA4RowError(f"{name} is not a number")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise GA4RowError(f"{name} is not a number") from None
    if not number.is_finite() or abs(number) > Decimal("1e15"):
        raise GA4RowError(f"{name} is not a finite amount")
    return number


def _money(value: Any, name: str) -> int | None:
    """An amount in cents (rounded half-even), or None when absent."""
    if value is None:
        return None
    return int(_number(value, name).quantize(CENT) * 100)


def _cents(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(CENT))
