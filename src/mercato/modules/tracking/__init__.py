"""Tracking: behavioural events and their import from GA4 and SFTP files.

Public surface for other modules: `store_events` (the one way events enter),
`daily_counters` / `DailyCounters` (today's real-time counts per tenant),
`user_timeline` (a shopper's sessions and events, for dashboards) and `on_events_stored`
(a hook told each tenant's newly stored live events, `StoredEvent`, after commit). The
event document itself, for code that builds events: `TrackedEvent` and its money and
time conversions (`cents_to_decimal_string`, `decimal_string_to_cents`,
`parse_timestamp_us`). For the dashboard: `list_events`, `availability` (stored events
per day), import jobs (`request_import`, `list_jobs`), GA4 freshness per day
(`ga4_freshness`) and the shapes `EventRead`, `EventType`, `Timeline`, `IngestJobCreate`,
`IngestJobRead`, `Ga4Freshness`.

Modules that aggregate events in SQL (analytics, experiments, insights, recommendations)
read the view `tracking_events`, never the `event` table: its columns are the contract
(one row per stored event; `order_id` and `email` lifted out of the properties; `event_key`
the dedup key), and it runs under the caller's row-level security.
"""

from mercato.modules.tracking.counters import DailyCounters, daily_counters
from mercato.modules.tracking.event_doc import (
    TrackedEvent,
    cents_to_decimal_string,
    decimal_string_to_cents,
    parse_timestamp_us,
)
from mercato.modules.tracking.freshness import ga4_freshness
from mercato.modules.tracking.imports import list_jobs, request_import
from mercato.modules.tracking.ingest import IngestOutcome, store_events
from mercato.modules.tracking.listeners import StoredEvent, on_events_stored
from mercato.modules.tracking.lookups import availability, list_events, user_timeline
from mercato.modules.tracking.schemas import (
    EventRead,
    EventType,
    Ga4Freshness,
    IngestJobCreate,
    IngestJobRead,
    Timeline,
)

__all__ = [
    "DailyCounters",
    "EventRead",
    "EventType",
    "Ga4Freshness",
    "IngestJobCreate",
    "IngestJobRead",
    "IngestOutcome",
    "StoredEvent",
    "Timeline",
    "TrackedEvent",
    "availability",
    "cents_to_decimal_string",
    "daily_counters",
    "decimal_string_to_cents",
    "ga4_freshness",
    "list_events",
    "list_jobs",
    "on_events_stored",
    "parse_timestamp_us",
    "request_import",
    "store_events",
    "user_timeline",
]
