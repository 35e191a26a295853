"""Liveness, readiness and metrics."""

from __future__ import annotations

import socket

import httpx
import pytest

from mercato import __version__
from mercato.kernel import redis as redis_module
from mercato.settings import Settings, get_settings


async def test_health_answers_without_dependencies(client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


async def test_ready_when_postgres_and_redis_answer(client) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


@pytest.fixture
def unreachable_redis():
    """Swap the shared client for one aimed at a closed port (a real failing connection)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    original = redis_module._client
    redis_module._client = redis_module.create_client(f"redis://127.0.0.1:{port}/0")
    yield
    redis_module._client = original


async def test_ready_is_503_naming_redis_when_it_is_down(client, unreachable_redis) -> None:
    response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"] == {"postgres": "ok", "redis": "failed"}


async def test_metrics_expose_route_templates_and_pool_gauges(client) -> None:
    await client.get("/health")
    await client.get("/no/such/page/12345")
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'mercato_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/no/such/page/12345" not in text  # unbounded paths never become labels
    assert "mercato_db_pool_checked_out" in text
    assert "mercato_http_request_duration_seconds_bucket" in text


@pytest.fixture
def metrics_token():
    settings = get_settings()
    patched = Settings(**{**settings.model_dump(), "metrics_token": "scrape-me-please"})
    get_settings.cache_clear()
    import mercato.kernel.probes as probes

    original = probes.get_settings
    probes.get_settings = lambda: patched
    yield "scrape-me-please"
    probes.get_settings = original


async def test_metrics_need_the_token_when_one_is_set(client, metrics_token: str) -> None:
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = await client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert right.status_code == 200


async def test_a_worker_serves_what_its_jobs_count_on_its_own_port() -> None:
    from mercato.kernel.metrics import serve_metrics
    from mercato.modules.channels.feeds.telemetry import FEED_PUSHES
    from tests.fakes.server import free_port

    port = free_port()
    serve_metrics(port, "127.0.0.1")
    FEED_PUSHES.labels("retried").inc()
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert 'mercato_feed_pushes_total{outcome="retried"}' in response.text
