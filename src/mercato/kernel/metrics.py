"""Prometheus metrics: HTTP traffic by route template, database pool gauges, process stats.

With several server processes (`mercato serve --workers N`) each process writes its
samples to `PROMETHEUS_MULTIPROC_DIR` and `/metrics` aggregates them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

HTTP_REQUESTS = Counter(
    "mercato_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "mercato_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class PoolCollector(Collector):
    """Reads the SQLAlchemy pool's state at scrape time."""

    def __init__(self, pool_status: Callable[[], dict[str, int]]) -> None:
        self._pool_status = pool_status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, value in self._pool_status().items():
            gauge = GaugeMetricFamily(
                f"mercato_db_pool_{name}", f"Database connection pool: {name.replace('_', ' ')}."
            )
            gauge.add_metric([], value)
            yield gauge


_pool_collector: PoolCollector | None = None


def register_pool(pool_status: Callable[[], dict[str, int]]) -> None:
    global _pool_collector
    if _pool_collector is not None:
        REGISTRY.unregister(_pool_collector)
    _pool_collector = PoolCollector(pool_status)
    REGISTRY.register(_pool_collector)


def render_latest(*, multiprocess_mode: bool) -> tuple[bytes, str]:
    """The exposition text for this process, or for all processes in multiprocess mode."""
    if multiprocess_mode:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        if _pool_collector is not None:
            registry.register(_pool_collector)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
