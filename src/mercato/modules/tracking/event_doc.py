"""The tracking event as a plain dict, shared by the simulator, the GA4 mapping and ingestion.

The shape is the API.md event body: only the keys that apply are present, money is a
decimal string, `timestamp` is RFC 3339 UTC.

Purchases, one representation everywhere: an order with n lines is n `purchase` events
(one per product) that share `properties.order_id`. Each event's `revenue` is that line's
share of the order's revenue, so the lines of an order add up exactly to the order's
revenue and summing `revenue` over purchase events never counts an order twice.
`properties.order_revenue` repeats the order total on every line for convenience; it is
never summed. Order counts are distinct `properties.order_id`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, TypedDict

EVENT_TYPES: Final = (
    "page_view",
    "view_item",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "purchase",
    "impression",
    "click",
)


class TrackedEvent(TypedDict, total=False):
    """One behavioural event, as POSTed to `{T}/events`."""

    type: str
    user_id: str
    session_id: str
    product_id: str
    quantity: int
    price: str
    revenue: str
    currency: str
    query: str
    results_count: int
    placement: str
    strategy: str
    experiment_id: str
    variant: str
    location_code: str
    event_id: str
    timestamp: str
    properties: dict[str, Any]


def cents_to_decimal_string(cents: int) -> str:
    """`1999` → `"19.99"`; exact, and much cheaper than going through Decimal."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def decimal_string_to_cents(value: str) -> int:
    """`"19.99"` → `1999`; raises ValueError when the amount has sub-cent digits."""
    amount = Decimal(value)
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{value!r} has more than two decimal places")
    return int(cents)


def format_timestamp_us(epoch_us: int) -> str:
    """RFC 3339 UTC with milliseconds, or microseconds when the time has them."""
    seconds, micros = divmod(epoch_us, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if micros % 1000 == 0:
        return f"{stamp}.{micros // 1000:03d}Z"
    return f"{stamp}.{micros:06d}Z"


def parse_timestamp_us(value: str) -> int:
    """An RFC 3339 timestamp (any offset) as microseconds since the epoch."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
