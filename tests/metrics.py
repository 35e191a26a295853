"""Read one sample from `/metrics` as Prometheus would scrape it."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mercato.kernel.metrics import expire_scraped


async def scraped(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of sample `name` with exactly `labels` (0 when absent, like a fresh counter)."""
    expire_scraped()
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0
