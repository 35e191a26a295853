"""Discount codes: percentage or fixed amounts off a cart's lines, with a minimum order, a
validity window and usage limits overall and per customer.

Public surface: `find_rule` and `line_discounts`/`why_not_applicable`/`split` (how the
cart prices a code), `redeem`/`release` and `customer_key` (how checkout counts a use
exactly once and a cancellation gives it back), and the errors they raise; for the
dashboard, `put_discount`, `get_discount`, `list_discounts` and their shapes.
"""

from mercato.modules.discounts.allocation import (
    DiscountRule,
    line_discounts,
    split,
    why_not_applicable,
)
from mercato.modules.discounts.schemas import (
    CODE_PATTERN,
    DiscountApply,
    DiscountRead,
    DiscountWrite,
)
from mercato.modules.discounts.service import (
    DiscountExhausted,
    DiscountNotApplicable,
    UnknownDiscount,
    applicable_rule,
    customer_key,
    find_rule,
    get_discount,
    list_discounts,
    normal_code,
    put_discount,
    redeem,
    release,
)

__all__ = [
    "CODE_PATTERN",
    "DiscountApply",
    "DiscountExhausted",
    "DiscountNotApplicable",
    "DiscountRead",
    "DiscountRule",
    "DiscountWrite",
    "UnknownDiscount",
    "applicable_rule",
    "customer_key",
    "find_rule",
    "get_discount",
    "line_discounts",
    "list_discounts",
    "normal_code",
    "put_discount",
    "redeem",
    "release",
    "split",
    "why_not_applicable",
]
