"""Per-request context shared by logging, errors and metrics (contextvars, so async-safe)."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
