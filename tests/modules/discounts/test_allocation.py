"""Discount arithmetic: per-line amounts to the cent that add up exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from mercato.modules.discounts import DiscountRule, line_discounts, split, why_not_applicable

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def rule(kind: str, value: str, **terms: object) -> DiscountRule:
    base: dict[str, object] = {
        "code": "C",
        "kind": kind,
        "value": Decimal(value),
        "currency": "EUR",
        "min_order": None,
        "starts_at": None,
        "ends_at": None,
        "usage_limit": None,
        "times_used": 0,
        "active": True,
    }
    return DiscountRule(**{**base, **terms})  # type: ignore[arg-type]


def test_a_percentage_rounds_each_line_half_up() -> None:
    # 15 % of 0.10 is 0.015 -> 0.02; of 0.30 is 0.045 -> 0.05.
    assert line_discounts(rule("percentage", "15"), [Decimal("0.10"), Decimal("0.30")]) == [
        Decimal("0.02"),
        Decimal("0.05"),
    ]


def test_a_fixed_amount_goes_to_the_largest_remainders_and_adds_up() -> None:
    # 1.00 over three equal lines: 0.33 each, the cent left goes to the first (a tie).
    assert split(Decimal("1.00"), [Decimal("5.00")] * 3) == [
        Decimal("0.34"),
        Decimal("0.33"),
        Decimal("0.33"),
    ]
    # More than the cart is worth: the cart's value, never below zero per line.
    assert line_discounts(rule("fixed", "50"), [Decimal("9.99"), Decimal("0.01")]) == [
        Decimal("9.99"),
        Decimal("0.01"),
    ]


@given(
    amount=st.decimals(min_value="0.01", max_value="5000", places=2),
    totals=st.lists(st.decimals(min_value="0.00", max_value="999", places=2), min_size=1),
)
def test_a_fixed_amount_always_adds_up_to_the_cent(amount: Decimal, totals: list[Decimal]) -> None:
    shares = line_discounts(rule("fixed", str(amount)), totals)
    expected = min(amount, sum(totals, Decimal("0.00")))
    assert sum(shares, Decimal("0.00")) == expected
    assert all(Decimal(0) <= s <= t for s, t in zip(shares, totals, strict=True))


def test_terms_that_keep_a_code_off_a_cart() -> None:
    def why(r: DiscountRule, subtotal: str = "20.00", currency: str = "EUR") -> str | None:
        return why_not_applicable(r, subtotal=Decimal(subtotal), currency=currency, now=NOW)

    assert why(rule("percentage", "10")) is None
    assert "active" in (why(rule("percentage", "10", active=False)) or "")
    assert "from" in (why(rule("percentage", "10", starts_at=NOW + timedelta(1))) or "")
    assert "expired" in (why(rule("percentage", "10", ends_at=NOW)) or "")
    assert "used" in (why(rule("percentage", "10", usage_limit=3, times_used=3)) or "")
    assert "USD" in (why(rule("fixed", "5", currency="USD")) or "")
    assert "at least 25" in (why(rule("fixed", "5", min_order=Decimal("25"))) or "")
    assert why(rule("fixed", "5", min_order=Decimal("20.00"))) is None
