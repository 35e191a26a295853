"""Distributed tracing with OpenTelemetry: off unless an OTLP endpoint is configured.

One trace follows a request through the jobs it enqueues to the outbound calls they
make: the ASGI instrumentation opens the request's span, `kernel.jobs.defer` writes the
W3C trace context into the job's arguments and the worker continues it (`job_span`),
the SQLAlchemy and Redis instrumentations add the database and cache calls, and every
egress client (`kernel.egress.http_client`) is instrumented for httpx.

Configured by the standard variables, read by the SDK: `OTEL_EXPORTER_OTLP_ENDPOINT`
(or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns tracing on and says where the OTLP/HTTP
exporter sends spans; `OTEL_SERVICE_NAME` (default `mercato`), `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_BSP_*` work as
documented by OpenTelemetry; `OTEL_SDK_DISABLED=true` keeps it off.

Off costs nothing on the request path: the SDK and instrumentations are not even
imported, no middleware is added, and the only trace of tracing is one boolean check.

What a span may carry is an allowlist (`SAFE_ATTRIBUTES` and `mercato.*`): method,
route template, status, server host, database system and (parameterised) SQL. Client
addresses, user agents, query strings, full URLs (a webhook URL may hold a token) and
Redis command arguments are dropped before export.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from mercato.kernel.extras import needs_extra

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from sqlalchemy.ext.asyncio import AsyncEngine

TENANT_ATTRIBUTE = "mercato.tenant_id"
ROUTE_ATTRIBUTE = "http.route"

SAFE_ATTRIBUTES = frozenset(
    {
        "http.method",
        "http.request.method",
        "http.status_code",
        "http.response.status_code",
        "http.route",
        "http.scheme",
        "url.scheme",
        "http.flavor",
        "network.protocol.version",
        "server.address",
        "server.port",
        "net.peer.name",
        "net.peer.port",
        "error.type",
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.operation",
        "db.operation.name",
        "db.statement",
        "db.query.text",
        "db.redis.database_index",
    }
)
"""Attributes exported as they are; anything else (other than `mercato.*`) is dropped."""

_enabled = False


def enabled() -> bool:
    return _enabled


def configured(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for tracing (an OTLP endpoint, the SDK not disabled)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def _keep(key: str, span_attributes: Mapping[str, Any]) -> bool:
    if key.startswith("mercato."):
        return True
    if key in ("db.statement", "db.query.text") and span_attributes.get("db.system") == "redis":
        return False  # a Redis "statement" is the command with its arguments
    return key in SAFE_ATTRIBUTES


def _scrubbed(span: ReadableSpan) -> ReadableSpan:
    from opentelemetry.sdk.trace import ReadableSpan

    attributes = span.attributes or {}
    kept = {k: v for k, v in attributes.items() if _keep(k, attributes)}
    full_url = attributes.get("url.full") or attributes.get("http.url")
    if isinstance(full_url, str) and "server.address" not in kept:
        host = urlsplit(full_url).hostname  # the host of an outbound call, not its path
        if host:
            kept["server.address"] = host
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=kept,
        events=(),  # exception events quote messages, which may quote input
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _scrubbing(exporter: SpanExporter) -> SpanExporter:
    from opentelemetry.sdk.trace.export import SpanExporter

    class ScrubbingExporter(SpanExporter):
        """Passes spans on with only the allowed attributes."""

        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return exporter.export([_scrubbed(span) for span in spans])

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return exporter.force_flush(timeout_millis)

    return ScrubbingExporter()


def configure(exporter: SpanExporter | None = None) -> bool:
    """Install the tracer provider and the Redis instrumentation when tracing is wanted.

    `exporter` (tests) replaces the OTLP/HTTP exporter and exports each span at once.
    Returns whether tracing is on. Idempotent: a process configures tracing once.
    """
    global _enabled
    if _enabled or (exporter is None and not configured()):
        return _enabled
    with needs_extra("observability", "Tracing (OTEL_EXPORTER_OTLP_ENDPOINT is set)"):
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.sdk.resources import OTELResourceDetector, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "mercato")})
    resource = resource.merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(_scrubbing(OTLPSpanExporter())))
    else:
        provider.add_span_processor(SimpleSpanProcessor(_scrubbing(exporter)))
    trace.set_tracer_provider(provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    _enabled = True
    return True


def shutdown() -> None:
    """Export what is buffered, remove the instrumentation and turn tracing off."""
    global _enabled
    if not _enabled:
        return
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    RedisInstrumentor().uninstrument()
    EngineTracer.remove_all_event_listeners()  # type: ignore[no-untyped-call]
    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if flush is not None:
        flush()
    _enabled = False


def install(app: FastAPI) -> None:
    """Add the ASGI instrumentation as the outermost middleware (only when tracing is on).

    Request and response bodies are not traced (`receive`/`send` spans excluded).
    """
    if not _enabled:
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    app.add_middleware(OpenTelemetryMiddleware, exclude_spans=["receive", "send"])


def instrument_engine(engine: AsyncEngine) -> None:
    """Trace the engine's statements with the SQLAlchemy instrumentation's engine tracer.

    Per engine rather than `SQLAlchemyInstrumentor().instrument()`, which patches
    `create_async_engine` (imported by name before tracing is configured, so not seen)
    and instruments once per process; it also declares `sqlalchemy < 2.1`, while its
    engine events work on 2.1 (tests/kernel/test_tracing.py checks the spans)."""
    if not _enabled:
        return
    from opentelemetry import metrics
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    scope = "opentelemetry.instrumentation.sqlalchemy"
    usage = metrics.get_meter(scope).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    EngineTracer(trace.get_tracer(scope), engine.sync_engine, usage)  # type: ignore[no-untyped-call]


def instrument_client(client: httpx.AsyncClient) -> None:
    if not _enabled:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client)


def describe_request(method: str, route: str, scope: Mapping[str, Any]) -> None:
    """Name the request's span by its route template and tag it with the tenant.

    Called as the response starts: routing is done, and the ASGI instrumentation ends the
    span with the response's last body message."""
    if not _enabled:
        return
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.update_name(f"{method} {route}")
    span.set_attribute(ROUTE_ATTRIBUTE, route)
    tenant_id = scope.get("path_params", {}).get("tenant_id")
    if tenant_id is not None:
        span.set_attribute(TENANT_ATTRIBUTE, str(tenant_id))


def carrier() -> dict[str, str] | None:
    """The current trace context as W3C headers, for a job's arguments (None when off)."""
    if not _enabled:
        return None
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers or None


@contextmanager
def job_span(
    task_name: str, headers: Mapping[str, str] | None, tenant_id: object | None
) -> Iterator[None]:
    """A job's span, continuing the trace of whoever deferred it (when tracing is on)."""
    if not _enabled:
        yield
        return
    parent = propagate.extract(dict(headers or {}))
    token = otel_context.attach(parent)
    try:
        tracer = trace.get_tracer("mercato.jobs")
        attributes = {"mercato.job": task_name}
        if tenant_id is not None:
            attributes[TENANT_ATTRIBUTE] = str(tenant_id)
        with tracer.start_as_current_span(
            f"job {task_name}", kind=trace.SpanKind.CONSUMER, attributes=attributes
        ):
            yield
    finally:
        otel_context.detach(token)
