from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.modules.tracking.event_doc import (
    cents_to_decimal_string,
    decimal_string_to_cents,
    format_timestamp_us,
    parse_timestamp_us,
)


@pytest.mark.parametrize(
    ("cents", "text"), [(0, "0.00"), (5, "0.05"), (1999, "19.99"), (-250, "-2.50")]
)
def test_cents_print_as_decimal_strings(cents: int, text: str) -> None:
    assert cents_to_decimal_string(cents) == text
    assert decimal_string_to_cents(text) == cents


def test_sub_cent_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="more than two decimal places"):
        decimal_string_to_cents("1.005")


def test_timestamps_use_milliseconds_unless_microseconds_are_set() -> None:
    assert format_timestamp_us(1_740_999_600_123_000) == "2025-03-03T11:00:00.123Z"
    assert format_timestamp_us(1_740_999_600_123_456) == "2025-03-03T11:00:00.123456Z"


def test_timestamps_without_an_offset_are_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_timestamp_us("2025-03-03T11:00:00")


@given(st.integers(0, 4_102_444_799_999_999))
def test_timestamps_round_trip(micros: int) -> None:
    assert parse_timestamp_us(format_timestamp_us(micros)) == micros
    assert parse_timestamp_us(format_timestamp_us(micros).replace("Z", "+02:00")) == (
        micros - 7_200_000_000
    )
