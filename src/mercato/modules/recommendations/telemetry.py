"""Prometheus metrics of recommendation serving.

- `mercato_reco_cache_lookups_total{strategy, result}`: every list asked of the cache,
  `result` hit or miss; the hit ratio is hits over all lookups. `strategy` is the one the
  caller asked for, `default` when it let the placement's experiment or `auto` decide
  (a cache hit is answered without reading which strategy the stored list used).
- `mercato_reco_compute_seconds{strategy}`: time to compute a list (cache misses and
  callers that never use the cache, such as widgets), by the strategy that answered.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DEFAULT_STRATEGY = "default"

CACHE_LOOKUPS = Counter(
    "mercato_reco_cache_lookups_total",
    "Recommendation lists looked up in the cache, by strategy asked for and hit or miss.",
    ["strategy", "result"],
)
COMPUTE_SECONDS = Histogram(
    "mercato_reco_compute_seconds",
    "Time to compute a recommendation list (cache misses only), by strategy.",
    ["strategy"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


_lookup_counters: dict[tuple[str | None, bool], Counter] = {}
"""The labelled children by (strategy, hit): `labels()` takes a lock and validates its
arguments on every call, too much for the cache-hit path, which is the fastest route we
serve. Strategies are a closed set (the query validates them), so this stays small."""


def count_lookup(strategy: str | None, *, hit: bool) -> None:
    child = _lookup_counters.get((strategy, hit))
    if child is None:
        child = CACHE_LOOKUPS.labels(strategy or DEFAULT_STRATEGY, "hit" if hit else "miss")
        _lookup_counters[(strategy, hit)] = child
    child.inc()
