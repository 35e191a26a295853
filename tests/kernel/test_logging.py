"""Log redaction: secrets and e-mail addresses never reach a log line."""

from __future__ import annotations

import io
import json
import logging

from mercato.kernel.logging import REDACTED, get_logger, redact


def test_sensitive_keys_are_redacted_at_any_depth() -> None:
    event = {
        "password": "hunter22",
        "headers": {"Authorization": "Bearer abc", "accept": "json"},
        "items": [{"api_key": "mk_live_123"}, {"refresh_token": "rt"}],
        "client_secret": "s",
        "count": 3,
    }
    assert redact(event) == {
        "password": REDACTED,
        "headers": {"Authorization": REDACTED, "accept": "json"},
        "items": [{"api_key": REDACTED}, {"refresh_token": REDACTED}],
        "client_secret": REDACTED,
        "count": 3,
    }


def test_email_addresses_are_masked_inside_strings() -> None:
    assert redact("login failed for jane.doe@example.com") == "login failed for j***@example.com"


def test_a_logged_event_is_redacted_end_to_end(app) -> None:
    """Through the configured pipeline: structlog processors, then the JSON formatter."""
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.getLogger().handlers[0].formatter)
    logging.getLogger().addHandler(handler)
    try:
        get_logger("tests").warning("login for bob@shop.example", password="pw-1234567", token="t")
    finally:
        logging.getLogger().removeHandler(handler)
    record = json.loads(sink.getvalue().splitlines()[-1])
    assert record["password"] == REDACTED
    assert record["token"] == REDACTED
    assert "bob@shop.example" not in sink.getvalue()
    assert "pw-1234567" not in sink.getvalue()
    assert record["level"] == "warning"
    assert record["logger"] == "tests"
