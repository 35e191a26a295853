"""Discount codes: percentage or fixed amounts off a cart's lines, with a minimum order, a
validity window and usage limits overall and per customer.

Public surface: `find_rule` and `line_discounts`/`why_not_applicable`/`split` (how the
cart prices a code), `redeem`/`release` and `customer_key` (how checkout counts a use
exactly once and a cancellation gives it back), and the errors they raise.
"""

from mercato.modules.discounts.allocation import (
    DiscountRule,
    line_discounts,
    split,
    why_not_applicable,
)
from mercato.modules.discounts.schemas import CODE_PATTERN, DiscountApply
from mercato.modules.discounts.service import (
    DiscountExhausted,
    DiscountNotApplicable,
    UnknownDiscount,
    applicable_rule,
    customer_key,
    find_rule,
    normal_code,
    redeem,
    release,
)

__all__ = [
    "CODE_PATTERN",
    "DiscountApply",
    "DiscountExhausted",
    "DiscountNotApplicable",
    "DiscountRule",
    "UnknownDiscount",
    "applicable_rule",
    "customer_key",
    "find_rule",
    "line_discounts",
    "normal_code",
    "redeem",
    "release",
    "split",
    "why_not_applicable",
]
