"""What a shopper adds to a cart before checkout: the shipping and billing addresses, and
a discount code. Checkout copies both onto the order (orders' `place_order`)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.security import TenantPrincipal
from mercato.modules.cart.schemas import CartAddresses, CartRead
from mercato.modules.cart.service import (
    _forget_after_commit,
    _lock_active,
    _priced,
    _read_state,
    cart_key,
)
from mercato.modules.customers import stored_address
from mercato.modules.discounts import applicable_rule, find_rule, normal_code


async def _save(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    cart_id: uuid.UUID,
    assignments: str,
    **values: object,
) -> CartRead:
    await session.execute(
        text(
            f"UPDATE cart SET {assignments}, updated_at = now() "  # noqa: S608 - callers' constants
            "WHERE tenant_id = :tenant AND id = :cart"
        ),
        {"tenant": tenant_id, "cart": cart_id, **values},
    )
    _forget_after_commit(session, cart_key(tenant_id, cart_id))
    return await _priced(
        session, tenant_id, await _read_state(session, tenant_id, cart_id, cached=False)
    )


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value)


async def set_addresses(
    session: AsyncSession,
    principal: TenantPrincipal,
    cart_id: uuid.UUID,
    body: CartAddresses,
    customer_id: uuid.UUID | None,
) -> CartRead:
    """Replace both addresses of an active cart (checked by `PostalAddress`)."""
    await _lock_active(session, principal, cart_id, customer_id)
    return await _save(
        session,
        principal.tenant_id,
        cart_id,
        "shipping_address = CAST(:shipping AS jsonb), billing_address = CAST(:billing AS jsonb)",
        shipping=_json(stored_address(body.shipping_address)),
        billing=_json(stored_address(body.billing_address)),
    )


async def apply_discount(
    session: AsyncSession,
    principal: TenantPrincipal,
    cart_id: uuid.UUID,
    code: str,
    customer_id: uuid.UUID | None,
) -> CartRead:
    """Put a discount code on an active cart, refused unless it applies to it now.

    422 `unknown-discount-code`; 409 `discount-exhausted`, `discount-not-applicable` (with
    why: inactive, outside its window, another currency, below the minimum order).
    """
    tenant_id = principal.tenant_id
    await _lock_active(session, principal, cart_id, customer_id)
    state = await _read_state(session, tenant_id, cart_id, cached=False)
    rule = await find_rule(session, tenant_id, code)
    priced = await _priced(session, tenant_id, state, rule)
    applicable_rule(
        rule,
        code,
        subtotal=priced.subtotal,
        currency=state.currency,
        now=datetime.now(UTC),
        field="code",
    )
    return await _save(session, tenant_id, cart_id, "discount_code = :code", code=normal_code(code))


async def remove_discount(
    session: AsyncSession,
    principal: TenantPrincipal,
    cart_id: uuid.UUID,
    customer_id: uuid.UUID | None,
) -> CartRead:
    await _lock_active(session, principal, cart_id, customer_id)
    return await _save(session, principal.tenant_id, cart_id, "discount_code = NULL")
