"""Prometheus metrics: HTTP traffic by route template, database pool gauges, process stats.

With several server processes (`mercato serve --workers N`) each process writes its
samples to `PROMETHEUS_MULTIPROC_DIR` and `/metrics` aggregates them: counters and
histograms are summed over processes. Product metrics live in the module that moves them
(recommendations, tracking, channels) and follow the same rule.

Gauges that describe the database rather than a process (job queue depth, running
experiments) are *scraped gauges*: `scraped_gauges` registers an async reader that
`/metrics` awaits before rendering, at most once per `ttl_s` (a short cache, so a
scraper polling every few seconds costs one query), never on a request path. Only the
process answering the scrape reads them, so they are not summed across workers.

Labels: never a tenant id, user, product or other unbounded value — one label value per
tenant multiplies every series by the tenant count. Labels are closed sets (strategy,
source, outcome, queue, route template).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from mercato.kernel.logging import get_logger

log = get_logger("mercato.metrics")

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


Sample = tuple[tuple[str, ...], float]
"""Label values (in the gauge's label order) and the value."""


@dataclass(frozen=True)
class GaugeSpec:
    name: str
    documentation: str
    labels: tuple[str, ...] = ()


class ScrapedGauges(Collector):
    """Gauges read together from the database at scrape time, cached for `ttl_s`."""

    def __init__(
        self,
        specs: Sequence[GaugeSpec],
        read: Callable[[], Awaitable[dict[str, list[Sample]]]],
        ttl_s: float,
    ) -> None:
        self.specs, self._read, self._ttl_s = list(specs), read, ttl_s
        self._samples: dict[str, list[Sample]] = {}
        self._read_at: float | None = None

    async def refresh(self) -> None:
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < self._ttl_s:
            return
        self._read_at = now
        try:
            self._samples = await self._read()
        except Exception:  # a scrape without these gauges beats a failed scrape
            log.warning("scraped_gauges_unreadable", gauges=self.key, exc_info=True)
            self._samples = {}

    def expire(self) -> None:
        self._read_at = None

    @property
    def key(self) -> str:
        return ",".join(spec.name for spec in self.specs)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for spec in self.specs:
            gauge = GaugeMetricFamily(spec.name, spec.documentation, labels=list(spec.labels))
            for label_values, value in self._samples.get(spec.name, []):
                gauge.add_metric(list(label_values), value)
            yield gauge


_scraped: dict[str, ScrapedGauges] = {}


def scraped_gauges(
    specs: Sequence[GaugeSpec],
    read: Callable[[], Awaitable[dict[str, list[Sample]]]],
    *,
    ttl_s: float = 10.0,
) -> ScrapedGauges:
    """Declare gauges one reader fills (at import time, like a Counter); `read` returns
    the samples by gauge name. Declaring the same names again replaces them."""
    gauges = ScrapedGauges(specs, read, ttl_s)
    previous = _scraped.pop(gauges.key, None)
    if previous is not None:
        REGISTRY.unregister(previous)
    _scraped[gauges.key] = gauges
    REGISTRY.register(gauges)
    return gauges


def expire_scraped() -> None:
    """Forget every scraped gauge's cache, so the next scrape reads afresh."""
    for gauges in _scraped.values():
        gauges.expire()


async def refresh_scraped() -> None:
    """Read every scraped gauge whose cache has expired (called by `/metrics`)."""
    for gauges in list(_scraped.values()):
        await gauges.refresh()


def serve_metrics(port: int, host: str) -> None:
    """Serve this process's metrics over HTTP from a thread (`mercato worker`): what its
    jobs count (feed pushes, imported events, ratings) lives in the worker process, which
    the API's `/metrics` cannot see. Gauges read at scrape time are the API's to read:
    here they appear without samples."""
    start_http_server(port, addr=host)


def render_latest(*, multiprocess_mode: bool) -> tuple[bytes, str]:
    """The exposition text for this process, or for all processes in multiprocess mode."""
    if multiprocess_mode:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        if _pool_collector is not None:
            registry.register(_pool_collector)
        for gauge in _scraped.values():
            registry.register(gauge)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
