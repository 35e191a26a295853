"""Prometheus metrics of event ingestion.

`mercato_events_total{source, outcome}`: events offered for storage, by source (`api`,
`ga4_file`, `bigquery`, `simulator`) and outcome (`accepted` stored, `duplicate` already
known by its dedup key, `rejected` invalid). Throughput is `rate()` of `accepted`.
"""

from __future__ import annotations

from prometheus_client import Counter

EVENTS = Counter(
    "mercato_events_total",
    "Behavioural events offered for storage, by source and outcome.",
    ["source", "outcome"],
)


def count_events(source: str, *, accepted: int, duplicates: int, rejected: int) -> None:
    for outcome, count in (
        ("accepted", accepted),
        ("duplicate", duplicates),
        ("rejected", rejected),
    ):
        if count:
            EVENTS.labels(source, outcome).inc(count)
