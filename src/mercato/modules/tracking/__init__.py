"""Tracking: behavioural events, their import from GA4, and the shop simulator.

Public surface for other modules: `store_events` (the one way events enter),
`daily_counters` / `DailyCounters` (today's real-time counts per tenant) and
`user_timeline` (a shopper's sessions and events, for dashboards).
The event document itself, for code that builds events: `TrackedEvent` and its money and
time conversions (`cents_to_decimal_string`, `decimal_string_to_cents`, `parse_timestamp_us`).
"""

from mercato.modules.tracking.counters import DailyCounters, daily_counters
from mercato.modules.tracking.event_doc import (
    TrackedEvent,
    cents_to_decimal_string,
    decimal_string_to_cents,
    parse_timestamp_us,
)
from mercato.modules.tracking.ingest import IngestOutcome, store_events
from mercato.modules.tracking.lookups import user_timeline

__all__ = ["DailyCounters", "IngestOutcome", "daily_counters", "store_events", "user_timeline"]
__all__ += [
    "TrackedEvent",
    "cents_to_decimal_string",
    "decimal_string_to_cents",
    "parse_timestamp_us",
]
