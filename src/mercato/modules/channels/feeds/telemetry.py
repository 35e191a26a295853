"""Prometheus metrics of feed pushes to Google Merchant Center.

- `mercato_feed_pushes_total{outcome}`: push jobs that ended an attempt, `success`,
  `failed` (for good) or `retried` (Google unreachable, queued again with backoff).
- `mercato_feed_push_items_total{outcome}`: products of those pushes, `pushed`, `failed`
  (Google refused the item) or `skipped` (the precheck found an error).
Counted once the outcome is committed.
"""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Counter

FEED_PUSHES = Counter(
    "mercato_feed_pushes_total",
    "Feed push jobs that ended an attempt, by outcome (success, failed, retried).",
    ["outcome"],
)
FEED_PUSH_ITEMS = Counter(
    "mercato_feed_push_items_total",
    "Products of feed pushes, by outcome (pushed, failed, skipped).",
    ["outcome"],
)


def count_items(outcomes: Tally[str]) -> None:
    for outcome, count in outcomes.items():
        FEED_PUSH_ITEMS.labels(outcome).inc(count)
