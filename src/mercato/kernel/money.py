"""Amounts as `Decimal`s to the cent: what prices, discounts, refunds and event values are
stored and compared in."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

CENT: Final = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    """`value` rounded half up to the cent (a price times a quantity, a pro-rata refund)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
