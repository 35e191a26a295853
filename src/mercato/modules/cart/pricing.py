"""Cart totals from catalog prices, a discount code, a tax rate and a shipping rule — pure
arithmetic.

A discount code takes its amount off the lines (discounts' `line_discounts` says how, to
the cent); it never touches tax or shipping. Prices are net: tax is `rate * (subtotal -
discount)`, rounded half-up to the cent. Shipping is the flat amount of the cart's
currency, free once the discounted subtotal reaches `free_over`, and nothing when the
tenant has no rule for the currency or the cart is empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from mercato.kernel.money import to_cents
from mercato.modules.cart.schemas import CartLine, CartRead
from mercato.modules.catalog import ProductSnapshot
from mercato.modules.customers import AddressRead
from mercato.modules.discounts import DiscountRule, line_discounts, why_not_applicable

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CartState:
    """A cart as stored (cached in Redis between reads), without prices."""

    id: uuid.UUID
    customer_id: uuid.UUID | None
    location_code: str | None
    status: str
    currency: str | None
    lines: list[tuple[str, int]]
    tax_rate: Decimal
    shipping_flat: Decimal | None
    free_over: Decimal | None
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    discount_code: str | None = None


def _address(stored: dict[str, Any] | None) -> AddressRead | None:
    return None if stored is None else AddressRead.model_construct(**stored)


def _discounts(
    state: CartState, rule: DiscountRule | None, totals: list[Decimal], now: datetime
) -> tuple[list[Decimal], str | None]:
    """Each line's discount, and why the cart's code takes nothing off (if it does not)."""
    nothing = [ZERO for _ in totals]
    if state.discount_code is None:
        return nothing, None
    if rule is None:
        return nothing, "There is no such discount code"
    subtotal = sum(totals, ZERO)
    reason = why_not_applicable(rule, subtotal=subtotal, currency=state.currency, now=now)
    return (nothing, reason) if reason is not None else (line_discounts(rule, totals), None)


def price_cart(
    state: CartState,
    products: Mapping[str, ProductSnapshot],
    rule: DiscountRule | None = None,
    now: datetime | None = None,
) -> CartRead:
    """Lines priced now; unknown, deleted or unavailable products count for nothing.

    `rule` is the cart's discount code's terms (None when it has none or it is unknown),
    judged at `now`.
    """
    lines: list[CartLine] = []
    subtotal = ZERO
    for product_id, quantity in state.lines:
        snapshot = products.get(product_id)
        usable = (
            snapshot is not None
            and not snapshot.deleted
            and snapshot.available
            and snapshot.currency == state.currency
        )
        unit = to_cents(snapshot.current_price) if snapshot is not None else ZERO
        line_total = to_cents(unit * quantity) if usable else ZERO
        subtotal += line_total
        lines.append(
            CartLine.model_construct(
                product_id=product_id,
                name=snapshot.name if snapshot is not None else product_id,
                image_url=snapshot.image_url if snapshot is not None else None,
                unit_price=unit,
                quantity=quantity,
                line_total=line_total,
                available=usable,
                discount=ZERO,
            )
        )
    off, reason = _discounts(state, rule, [line.line_total for line in lines], now or _now())
    for line, amount in zip(lines, off, strict=True):
        line.discount = amount
    discount_total = sum(off, ZERO)
    merchandise = subtotal - discount_total
    shipping = ZERO
    if subtotal > 0 and state.shipping_flat is not None:
        free = state.free_over is not None and merchandise >= state.free_over
        shipping = ZERO if free else to_cents(state.shipping_flat)
    tax = to_cents(merchandise * state.tax_rate)
    # Computed values only (no input to check): built without a validation pass.
    return CartRead.model_construct(
        id=state.id,
        customer_id=state.customer_id,
        location_code=state.location_code,
        status=state.status,
        currency=state.currency,
        items=lines,
        subtotal=to_cents(subtotal),
        discount_code=state.discount_code,
        discount_total=to_cents(discount_total),
        discount_reason=reason,
        tax_rate=state.tax_rate,
        tax=tax,
        shipping=shipping,
        total=to_cents(merchandise + tax + shipping),
        shipping_address=_address(state.shipping_address),
        billing_address=_address(state.billing_address),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def unusable_lines(cart: CartRead) -> Sequence[CartLine]:
    return [line for line in cart.items if not line.available]
