"""What a discount takes off a cart, line by line — pure arithmetic, to the cent.

Rounding rules (money is Decimal with two places throughout):
- A percentage discount takes `value` % of each line, rounded half-up per line; the
  discount total is the sum of the lines' rounded amounts.
- A fixed discount takes `min(value, subtotal)` and spreads it over the lines in
  proportion to their totals by the largest-remainder method: each line gets its share
  rounded down to the cent, and the cents left over go one each to the lines with the
  largest remainders (ties: the earlier line). The lines then add up to the discount
  exactly, and no line is discounted below zero.
- `split` uses the same method to spread a line's discount over the locations its units
  ship from (by quantity), so an order's per-location rows add up to the line too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from mercato.kernel.money import CENT, to_cents

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DiscountRule:
    """A discount code's terms, as a cart needs them to price itself."""

    code: str
    kind: str  # percentage | fixed
    value: Decimal
    currency: str | None
    min_order: Decimal | None
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    times_used: int
    active: bool


def used_up(rule: DiscountRule) -> bool:
    return rule.usage_limit is not None and rule.times_used >= rule.usage_limit


def why_not_usable(rule: DiscountRule, *, now: datetime) -> str | None:
    """Why the code cannot be used at all now (inactive, outside its window, used up)."""
    if not rule.active:
        return "The code is no longer active"
    if rule.starts_at is not None and now < rule.starts_at:
        return f"The code is valid from {rule.starts_at.isoformat()}"
    if rule.ends_at is not None and now >= rule.ends_at:
        return f"The code expired at {rule.ends_at.isoformat()}"
    if used_up(rule):
        return "The code has been used as often as it may be"
    return None


def why_not_applicable(
    rule: DiscountRule, *, subtotal: Decimal, currency: str | None, now: datetime
) -> str | None:
    """Why the code does not apply to a cart now, or None when it does.

    The per-customer limit is not judged here: the redemption at checkout settles it (and
    the overall limit again, under the code's row lock).
    """
    unusable = why_not_usable(rule, now=now)
    if unusable is not None:
        return unusable
    if rule.currency is not None and currency is not None and currency != rule.currency:
        return f"The code is for orders in {rule.currency}"
    if rule.min_order is not None and subtotal < rule.min_order:
        return f"The code needs an order of at least {rule.min_order} {rule.currency or currency}"
    return None


def split(amount: Decimal, weights: Sequence[Decimal | int]) -> list[Decimal]:
    """`amount` spread over `weights` in proportion, to the cent, adding up exactly."""
    total = sum((Decimal(w) for w in weights), Decimal(0))
    if total <= 0 or amount <= 0:
        return [ZERO for _ in weights]
    exact = [amount * Decimal(w) / total for w in weights]
    shares = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int((amount - sum(shares, ZERO)) / CENT)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += CENT
    return shares


def line_discounts(rule: DiscountRule, line_totals: Sequence[Decimal]) -> list[Decimal]:
    """The amount the rule takes off each line (lines of zero value get nothing)."""
    if rule.kind == "percentage":
        rate = rule.value / Decimal(100)
        return [to_cents(t * rate) for t in line_totals]
    subtotal = sum(line_totals, ZERO)
    return split(min(rule.value, subtotal), line_totals)
