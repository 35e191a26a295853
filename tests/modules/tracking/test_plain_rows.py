"""The batch shortcut (events typed into dicts, rows made by `plain_row`) gives exactly
the rows and rejections of the event-by-event check (`check_event` on each raw event),
for well-formed events and for every rule an event can break."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mercato.modules.tracking.ingest import check_batch, check_batch_body
from mercato.modules.tracking.validation import (
    ClockWindow,
    check_event,
    parse_batch_body,
    parse_typed_batch,
    plain_row,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WINDOW = ClockWindow.around(NOW)


def _body(events: list[Any]) -> bytes:
    return json.dumps({"events": events}).encode()


VALID: list[dict[str, Any]] = [
    {"type": "page_view", "user_id": "u1"},
    {"type": "view_item", "user_id": "u1", "product_id": "p1", "timestamp": "2026-11-23T11:00:00Z"},
    {
        "type": "view_item",
        "user_id": "u1",
        "product_id": "p1",
        "timestamp": "2026-11-23T13:30:00.5+02:00",
    },
    {
        "type": "view_item",
        "user_id": "u1",
        "product_id": "p1",
        "timestamp": "2026-11-23 11:00:00.1234567Z",
    },
    {"type": "view_item", "user_id": "ü" * 256, "product_id": "p" * 128, "event_id": "e" * 200},
    {"type": "add_to_cart", "user_id": "u2", "product_id": "p2", "quantity": 3, "price": "19.90"},
    {"type": "add_to_cart", "user_id": "u2", "product_id": "p2", "quantity": 0, "price": 19.9},
    {"type": "purchase", "user_id": "u3", "revenue": "59.9000", "currency": "EUR"},
    {"type": "purchase", "user_id": "u3", "revenue": 60, "currency": "EUR", "session_id": "s"},
    {
        "type": "purchase",
        "user_id": "u3",
        "revenue": "0",
        "currency": "USD",
        "properties": {"order_id": 1234, "items": [1, 2.5, None, True]},
    },
    {"type": "search", "user_id": "u4", "query": "sofa", "results_count": 2_147_483_647},
    {
        "type": "impression",
        "user_id": "u5",
        "product_id": "p5",
        "placement": "home",
        "strategy": "auto",
        "experiment_id": "x",
        "variant": "b",
        "location_code": "LEI-01",
        "properties": {},
        "unknown_field": "ignored",
    },
    {"type": "click", "user_id": "u5", "product_id": "p5", "properties": {"note": "tab\there"}},
    {"type": "begin_checkout", "user_id": "u6", "session_id": None, "product_id": None},
    {
        "type": "remove_from_cart",
        "user_id": "u6",
        "product_id": "p6",
        "timestamp": (NOW - timedelta(days=399)).isoformat(),
    },
]

REFUSED_BY_A_RULE: list[dict[str, Any]] = [
    # At the calendar's edge, whose UTC time falls outside it.
    {"type": "page_view", "user_id": "u", "timestamp": "0001-01-01T00:00:00+01:00"},
    {"type": "page_view", "user_id": "u", "timestamp": "9999-12-31T23:59:59-01:00"},
    {"type": "view_item", "user_id": "u1"},  # needs product_id
    {"type": "purchase", "user_id": "u1", "revenue": "10.00"},  # needs currency
    {"type": "purchase", "user_id": "u1", "currency": "EUR"},  # needs revenue
    {"type": "search", "user_id": "u1", "query": ""},  # needs a query
    {"type": "page_view", "user_id": "u1", "timestamp": (NOW + timedelta(hours=73)).isoformat()},
    {"type": "page_view", "user_id": "u1", "timestamp": (NOW - timedelta(days=401)).isoformat()},
    {"type": "page_view", "user_id": "u1", "properties": {"blob": "x" * 16_400}},
]
# A literal backslash before "u0000" (jsonb refuses it); the body then may hold a NUL.
NUL_LOOKALIKE = {"type": "page_view", "user_id": "u1", "properties": {"path": "C:\\u0000"}}

MALFORMED: list[Any] = [
    {"type": "teleport", "user_id": "u1"},
    {"type": "page_view", "user_id": ""},
    {"type": "page_view", "user_id": 7},
    {"type": "page_view", "user_id": "u", "quantity": 1.0},
    {"type": "page_view", "user_id": "u", "quantity": True},
    {"type": "purchase", "user_id": "u", "revenue": "10.00001", "currency": "EUR"},
    {"type": "purchase", "user_id": "u", "revenue": "-1", "currency": "EUR"},
    {"type": "purchase", "user_id": "u", "revenue": "1", "currency": "eur"},
    {"type": "page_view", "user_id": "u", "timestamp": "2026-11-23T11:00:00"},
    {"type": "page_view", "user_id": "u", "properties": ["not", "an", "object"]},
    "not an object",
]


@pytest.mark.parametrize("event", [*VALID, *REFUSED_BY_A_RULE, NUL_LOOKALIKE], ids=repr)
def test_each_typed_event_gets_the_row_or_refusal_of_the_exact_check(event: dict[str, Any]) -> None:
    typed = parse_typed_batch(_body([event]))
    assert typed is not None
    row, errors = check_event(event, WINDOW)
    assert plain_row(typed[0], WINDOW) == row
    assert (row is None) == bool(errors)


@pytest.mark.parametrize("event", MALFORMED, ids=repr)
def test_a_malformed_event_is_never_typed(event: Any) -> None:
    assert parse_typed_batch(_body([VALID[0], event])) is None


@pytest.mark.parametrize(
    "events",
    [
        VALID,
        VALID + REFUSED_BY_A_RULE,
        [*REFUSED_BY_A_RULE, *VALID, NUL_LOOKALIKE],
        REFUSED_BY_A_RULE + VALID + MALFORMED,
        MALFORMED,
    ],
    ids=["valid", "refused by rules", "and a NUL look-alike", "all kinds", "malformed"],
)
def test_a_batch_gets_the_answer_of_the_event_by_event_check(
    events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ClockWindow, "around", classmethod(lambda cls, now, **_: WINDOW))
    body = _body(events)
    assert check_batch_body(body) == check_batch(parse_batch_body(body), WINDOW)
    expected = [check_event(event, WINDOW) for event in events]
    rows, rejected = check_batch_body(body)
    assert rows == [row for row, _ in expected if row is not None]
    assert rejected == [
        {"index": index, "errors": errors}
        for index, (_, errors) in enumerate(expected)
        if errors is not None
    ]


@pytest.mark.parametrize(
    ("stamp", "code"),
    [("0001-01-01T00:00:00+01:00", "too_old"), ("9999-12-31T23:59:59-01:00", "clock_skew")],
)
def test_a_timestamp_at_the_calendars_edge_is_refused_not_an_overflow(
    stamp: str, code: str
) -> None:
    row, errors = check_event({"type": "page_view", "user_id": "u", "timestamp": stamp}, WINDOW)
    assert row is None
    assert [(error["field"], error["code"]) for error in errors or []] == [("timestamp", code)]
