"""Optional error reporting to a Sentry-compatible service (`MERCATO_SENTRY_DSN`).

Only unhandled errors are reported: a request's 500 (`RequestContextMiddleware`) and a
job that raised (`kernel.jobs.task`), each tagged with the request id, route template
and tenant id. Nothing else of the request travels: no headers, cookies, body, query
string, client address or user, no local variables and no breadcrumbs, and the rest of
the event goes through the log redaction (`kernel.logging.redact`: sensitive keys
replaced, e-mail addresses masked). The SDK's automatic integrations stay off, so it
reports exactly what is handed to `report`.

The connection to the DSN is the operator's, made by the SDK's own transport: it does not
go through tenant egress (`kernel.egress`), whose rules are about addresses tenants give.
"""

from __future__ import annotations

from typing import Any

from mercato import __version__
from mercato.kernel.extras import needs_extra
from mercato.kernel.logging import redact
from mercato.settings import Settings

_enabled = False

KEPT_EVENT_KEYS = frozenset(
    {
        "event_id",
        "timestamp",
        "level",
        "platform",
        "exception",
        "tags",
        "release",
        "environment",
        "server_name",
        "sdk",
        "contexts",
        "message",
        "logger",
        "transaction",
    }
)
"""What of an event is sent; anything the SDK adds besides (request, user, breadcrumbs,
extra) is dropped."""


def _scrub(event: Any, _hint: Any) -> Any:
    """The event as sent: only `KEPT_EVENT_KEYS`, no frame variables, redacted."""
    kept = {key: value for key, value in event.items() if key in KEPT_EVENT_KEYS}
    for exception in (kept.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    scrubbed: dict[str, Any] = redact(kept)
    return scrubbed


def configure(settings: Settings) -> bool:
    """Start the SDK when a DSN is set; returns whether errors are reported."""
    global _enabled
    if settings.sentry_dsn is None or _enabled:
        return _enabled
    with needs_extra("observability", "Error reporting (MERCATO_SENTRY_DSN is set)"):
        import sentry_sdk
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        release=f"mercato@{__version__}",
        environment=settings.env.value,
        data_collection={"user_info": False, "http_bodies": [], "stack_frame_variables": False},
        max_breadcrumbs=0,
        default_integrations=False,
        auto_enabling_integrations=False,
        traces_sample_rate=None,
        before_send=_scrub,
    )
    _enabled = True
    return True


def report(exc: BaseException, **tags: object) -> None:
    """Report an unhandled error with its context (request id, route, tenant, job)."""
    if not _enabled:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for key, value in tags.items():
            if value is not None:
                scope.set_tag(key, str(value))
        scope.capture_exception(exc)


def shutdown() -> None:
    """Send what is queued and stop reporting."""
    global _enabled
    if not _enabled:
        return
    import sentry_sdk

    sentry_sdk.get_client().close(timeout=2.0)
    _enabled = False
