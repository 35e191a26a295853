"""Cart totals from catalog prices, a tax rate and a shipping rule — pure arithmetic.

Prices are net: tax is `rate * subtotal`, rounded half-up to the cent. Shipping is the
flat amount of the cart's currency, free once the subtotal reaches `free_over`, and
nothing when the tenant has no rule for the currency or the cart is empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from mercato.modules.cart.schemas import CartLine, CartRead
from mercato.modules.catalog import ProductSnapshot

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


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


def price_cart(state: CartState, products: Mapping[str, ProductSnapshot]) -> CartRead:
    """Lines priced now; unknown, deleted or unavailable products count for nothing."""
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
        unit = money(snapshot.current_price) if snapshot is not None else ZERO
        line_total = money(unit * quantity) if usable else ZERO
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
            )
        )
    shipping = ZERO
    if subtotal > 0 and state.shipping_flat is not None:
        free = state.free_over is not None and subtotal >= state.free_over
        shipping = ZERO if free else money(state.shipping_flat)
    tax = money(subtotal * state.tax_rate)
    # Computed values only (no input to check): built without a validation pass.
    return CartRead.model_construct(
        id=state.id,
        customer_id=state.customer_id,
        location_code=state.location_code,
        status=state.status,
        currency=state.currency,
        items=lines,
        subtotal=money(subtotal),
        tax_rate=state.tax_rate,
        tax=tax,
        shipping=shipping,
        total=money(subtotal + tax + shipping),
    )


def unusable_lines(cart: CartRead) -> Sequence[CartLine]:
    return [line for line in cart.items if not line.available]
