"""Batch parsing's shortcuts: the garbage collector paused (and always given back), and
the per-field NUL check skipped only when the body cannot hold a NUL."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mercato.kernel.errors import ValidationFailed
from mercato.modules.tracking.ingest import check_batch
from mercato.modules.tracking.validation import (
    ClockWindow,
    collector_paused,
    may_hold_nul,
    parse_batch_body,
)


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
class TestCollectorPaused:
    def test_the_collector_is_off_inside_and_on_again_after(self) -> None:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_an_error_inside_still_turns_it_back_on(self) -> None:
        with pytest.raises(ValidationFailed), collector_paused():
            parse_batch_body(b'{"events": "not a list"}')
        assert gc.isenabled()

    def test_a_collector_switched_off_elsewhere_stays_off(self) -> None:
        gc.disable()
        with collector_paused():
            pass
        assert not gc.isenabled()
        gc.enable()

    def test_checking_a_batch_leaves_the_collector_on_and_checks_every_event(self) -> None:
        body = json.dumps(
            {
                "events": [
                    {"type": "view_item", "user_id": "u1", "product_id": "SKU-1"},
                    {"type": "view_item", "user_id": "u1"},
                ]
            }
        ).encode()
        rows, rejected = check_batch(parse_batch_body(body), ClockWindow.around(datetime.now(UTC)))
        assert gc.isenabled()
        assert [row.product_id for row in rows] == ["SKU-1"]
        assert rejected[0]["index"] == 1
        assert rejected[0]["errors"][0]["field"] == "product_id"


class TestNulShortcut:
    def test_only_the_json_escape_can_carry_a_nul(self) -> None:
        assert may_hold_nul(b'{"events": [{"user_id": "a\\u0000b"}]}')
        assert not may_hold_nul(b'{"events": [{"user_id": "a\\u0001b"}]}')
        with pytest.raises(ValidationFailed):
            parse_batch_body(b'{"events": [{"type": "page_view", "user_id": "a\x00b"}]}')

    def test_a_nul_in_any_text_field_is_still_rejected_per_event(self) -> None:
        body = (
            b'{"events": [{"type": "view_item", "user_id": "u1", "product_id": "SKU-1"},'
            b' {"type": "view_item", "user_id": "u1", "product_id": "SK\\u0000U"}]}'
        )
        window = ClockWindow.around(datetime.now(UTC))
        rows, rejected = check_batch(
            parse_batch_body(body), window, nul_free=not may_hold_nul(body)
        )
        assert [row.product_id for row in rows] == ["SKU-1"]
        assert rejected[0]["index"] == 1
        assert rejected[0]["errors"][0]["code"] == "nul_character"
