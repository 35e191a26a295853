"""One trace from an API request through the job it enqueues to the outbound webhook,
with tenant and route attributes and nothing secret or personal in any span."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from mercato.kernel import tracing
from mercato.kernel.db import get_database
from tests.factories import create_tenant, signup_and_login
from tests.fakes.server import serve
from tests.jobs import run_queued_jobs
from tests.modules.webhooks.test_webhooks import Receiver


@pytest.fixture
async def traced(app) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    """An app built with tracing on (spans kept in memory), sharing the session's pools."""
    from mercato.app import create_app

    exporter = InMemorySpanExporter()
    assert tracing.configure(exporter)
    tracing.instrument_engine(get_database().engine)  # what a new engine gets at creation
    transport = httpx.ASGITransport(app=create_app())
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, exporter
    finally:
        tracing.shutdown()


def _everything_exported(spans: tuple[ReadableSpan, ...]) -> str:
    return json.dumps(
        [{"name": s.name, "attributes": dict(s.attributes or {})} for s in spans], default=str
    )


async def test_a_request_its_job_and_the_webhook_it_posts_share_one_trace(traced) -> None:
    client, exporter = traced
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        owner = await signup_and_login(client)
        tenant = await create_tenant(client, owner)
        created = await client.post(
            f"/api/v1/tenants/{tenant}/webhooks",
            json={"url": f"{url}/hook?token=sekrit-query", "event_types": ["order.created"]},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()
        await run_queued_jobs("default", "webhooks")  # what earlier tests left queued
        exporter.clear()
        ping = await client.post(
            f"/api/v1/tenants/{tenant}/webhooks/{endpoint['id']}/test",
            headers={**owner.headers, "user-agent": "Shopper-Browser/1.0"},
        )
        assert ping.status_code == 202, ping.text
        await run_queued_jobs("default", "webhooks")
    assert len(receiver.received) == 1

    spans = exporter.get_finished_spans()
    request = next(s for s in spans if s.kind is SpanKind.SERVER)
    trace_id = request.context.trace_id
    assert request.name == "POST /api/v1/tenants/{tenant_id}/webhooks/{webhook_id}/test"
    assert (
        request.attributes["http.route"] == "/api/v1/tenants/{tenant_id}/webhooks/{webhook_id}/test"
    )
    assert request.attributes[tracing.TENANT_ATTRIBUTE] == tenant

    jobs = [s for s in spans if s.kind is SpanKind.CONSUMER]
    assert [s.name for s in jobs] == ["job webhooks.deliver"]
    assert all(s.context.trace_id == trace_id for s in jobs)
    assert all(s.attributes[tracing.TENANT_ATTRIBUTE] == tenant for s in jobs)
    outbound = [s for s in spans if s.kind is SpanKind.CLIENT and "db.system" not in s.attributes]
    assert len(outbound) == 1
    webhook = outbound[0]
    assert webhook.context.trace_id == trace_id
    assert webhook.parent is not None
    assert webhook.parent.span_id in {s.context.span_id for s in jobs}
    assert webhook.attributes["server.address"] == "127.0.0.1"
    assert any(s.attributes.get("db.system") == "postgresql" for s in spans)

    exported = _everything_exported(spans)
    for secret in (
        endpoint["secret"],  # the signing secret
        owner.access_token,  # the staff's token
        owner.email,  # personal data
        "sekrit-query",  # a token in the webhook URL's query
        "Shopper-Browser",  # the user agent
        "127.0.0.1:",  # no client or server address with a port in a URL
    ):
        assert secret not in exported, secret


async def test_off_by_default_and_no_trace_context_in_job_arguments(client, app) -> None:
    assert not tracing.configured({})
    assert not tracing.configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert tracing.configured({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    assert not tracing.enabled()
    assert tracing.carrier() is None
