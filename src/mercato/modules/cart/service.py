"""Carts: lines in PostgreSQL, read through a Redis cache, priced from the catalog on read.

Two cached values make a priced read cost one Redis round trip plus the catalog's cached
snapshots: the cart's lines (`cart:<id>`, dropped after every committed change) and the
tenant's tax/shipping tables (`cart:pricing`, dropped when they change). Prices are never
stored in a cart; they are re-read every time, so a price change shows at once.
A cart id is a random UUIDv4: for a guest it is the unguessable cart token.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.db import after_commit
from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import get_redis, tenant_key
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.cart.pricing import CartState, price_cart, unusable_lines
from mercato.modules.cart.schemas import MAX_QUANTITY, CartCreate, CartRead
from mercato.modules.catalog import get_products
from mercato.modules.discounts import DiscountRule, applicable_rule, find_rule, normal_code
from mercato.settings import get_settings

log = get_logger("mercato.cart")

CART_CACHE_TTL_S = 3600
PRICING_CACHE_TTL_S = 3600
TENANT_WIDE = "*"


class CartNotActive(Conflict):
    slug, title = "cart-not-active", "The cart has been checked out or merged"


class EmptyCart(Conflict):
    slug, title = "empty-cart", "The cart has no items"


class CheckoutTooLarge(Conflict):
    slug, title = "checkout-too-large", "This checkout would reserve more than a browser key may"


class CartItemsUnavailable(Conflict):
    slug, title = "items-unavailable", "Some items can no longer be bought"


def cart_key(tenant_id: uuid.UUID, cart_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "cart", cart_id)


def pricing_key(tenant_id: uuid.UUID) -> str:
    return tenant_key(tenant_id, "cart", "pricing")


async def _forget(*keys: str) -> None:
    try:
        await get_redis().delete(*keys)
    except RedisError as exc:
        log.warning("cart_cache_invalidation_failed", error=str(exc))


def _forget_after_commit(session: AsyncSession, *keys: str) -> None:
    async def forget() -> None:
        await _forget(*keys)

    after_commit(session, forget)


CART_SQL = text(
    "SELECT c.customer_id, c.location_code, c.status, c.currency, "
    "coalesce((SELECT json_agg(json_build_array(i.product_id, i.quantity) "
    "ORDER BY i.added_at, i.product_id) FROM cart_item i "
    "WHERE i.tenant_id = c.tenant_id AND i.cart_id = c.id), '[]'), "
    "c.shipping_address, c.billing_address, c.discount_code "
    "FROM cart c WHERE c.tenant_id = :tenant AND c.id = :cart"
)
PRICING_SQL = text(
    "SELECT 't', scope, rate, NULL FROM tax_rate WHERE tenant_id = :tenant "
    "UNION ALL SELECT 's', currency, flat_amount, free_over FROM shipping_rate "
    "WHERE tenant_id = :tenant"
)


async def _load_pricing(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any]:
    tables: dict[str, Any] = {"tax": {}, "shipping": {}}
    for kind, key, amount, free_over in await session.execute(PRICING_SQL, {"tenant": tenant_id}):
        if kind == "t":
            tables["tax"][key] = str(amount)
        else:
            tables["shipping"][key] = [str(amount), None if free_over is None else str(free_over)]
    return tables


def _cart_from_row(row: Any) -> dict[str, Any]:
    return {
        "customer_id": None if row[0] is None else str(row[0]),
        "location_code": row[1],
        "status": row[2],
        "currency": row[3],
        "lines": [[str(p), int(q)] for p, q in row[4]],
        "shipping_address": row[5],
        "billing_address": row[6],
        "discount_code": row[7],
    }


def _state(cart_id: uuid.UUID, cart: dict[str, Any], pricing: dict[str, Any]) -> CartState:
    location = cart["location_code"]
    rate = pricing["tax"].get(location) if location else None
    rate = rate if rate is not None else pricing["tax"].get(TENANT_WIDE, "0")
    shipping = pricing["shipping"].get(cart["currency"] or "")
    return CartState(
        id=cart_id,
        customer_id=None if cart["customer_id"] is None else uuid.UUID(cart["customer_id"]),
        location_code=location,
        status=cart["status"],
        currency=cart["currency"],
        lines=[(p, q) for p, q in cart["lines"]],
        tax_rate=Decimal(rate),
        shipping_flat=None if shipping is None else Decimal(shipping[0]),
        free_over=None if shipping is None or shipping[1] is None else Decimal(shipping[1]),
        # Absent from cart copies cached before carts had them.
        shipping_address=cart.get("shipping_address"),
        billing_address=cart.get("billing_address"),
        discount_code=cart.get("discount_code"),
    )


async def _read_state(
    session: AsyncSession, tenant_id: uuid.UUID, cart_id: uuid.UUID, *, cached: bool
) -> CartState:
    keys = [cart_key(tenant_id, cart_id), pricing_key(tenant_id)]
    raw: list[Any] = [None, None]
    if cached:
        try:
            raw = await get_redis().mget(keys)
        except RedisError as exc:
            log.warning("cart_cache_unavailable", error=str(exc))
            cached = False
    cart = json.loads(raw[0]) if raw[0] is not None else None
    pricing = json.loads(raw[1]) if raw[1] is not None else None
    if cart is None:
        row = (await session.execute(CART_SQL, {"tenant": tenant_id, "cart": cart_id})).first()
        if row is None:
            raise NotFound("No such cart")
        cart = _cart_from_row(row)
    if pricing is None:
        pricing = await _load_pricing(session, tenant_id)
    if cached and (raw[0] is None or raw[1] is None):
        try:
            async with get_redis().pipeline(transaction=False) as pipe:
                pipe.set(keys[0], json.dumps(cart), ex=CART_CACHE_TTL_S)
                pipe.set(keys[1], json.dumps(pricing), ex=PRICING_CACHE_TTL_S)
                await pipe.execute()
        except RedisError as exc:
            log.warning("cart_cache_unavailable", error=str(exc))
    return _state(cart_id, cart, pricing)


def _check_access(state: CartState, customer_id: uuid.UUID | None, principal: Principal) -> None:
    """A customer's cart is theirs: another shopper (or a browser key without the
    customer's token) gets a 404, as if it did not exist."""
    if state.customer_id is None:
        return
    if customer_id is not None and customer_id != state.customer_id:
        raise NotFound("No such cart")
    if customer_id is None and principal.key_kind == "publishable":
        raise NotFound("No such cart")


async def _rule_of(
    session: AsyncSession, tenant_id: uuid.UUID, state: CartState
) -> DiscountRule | None:
    return (
        None
        if state.discount_code is None
        else await find_rule(session, tenant_id, state.discount_code)
    )


async def _priced(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    state: CartState,
    rule: DiscountRule | None = None,
) -> CartRead:
    """The cart priced now; with `rule` given, its code's terms are not read again."""
    products = await get_products(session, tenant_id, [p for p, _ in state.lines])
    if rule is None:
        rule = await _rule_of(session, tenant_id, state)
    return price_cart(state, products, rule)


async def get_cart(
    session: AsyncSession,
    principal: TenantPrincipal,
    cart_id: uuid.UUID,
    customer_id: uuid.UUID | None,
) -> CartRead:
    """The cart with prices, tax and shipping as of now."""
    state = await _read_state(session, principal.tenant_id, cart_id, cached=True)
    _check_access(state, customer_id, principal)
    return await _priced(session, principal.tenant_id, state)


async def create_cart(
    session: AsyncSession,
    principal: TenantPrincipal,
    body: CartCreate,
    customer_id: uuid.UUID | None,
) -> CartRead:
    """A new empty cart, for a customer or a guest (its id is the guest's token)."""
    cart_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO cart (tenant_id, id, customer_id, location_code, status) "
            "VALUES (:tenant, :cart, :customer, :location, 'active')"
        ),
        {
            "tenant": principal.tenant_id,
            "cart": cart_id,
            "customer": customer_id,
            "location": body.location_code,
        },
    )
    pricing = await _load_pricing(session, principal.tenant_id)
    cart: dict[str, Any] = {
        "customer_id": None if customer_id is None else str(customer_id),
        "location_code": body.location_code,
        "status": "active",
        "currency": None,
        "lines": [],
    }
    return price_cart(_state(cart_id, cart, pricing), {})


LOCK_CART_SQL = text(
    "SELECT customer_id, status, currency FROM cart "
    "WHERE tenant_id = :tenant AND id = :cart FOR UPDATE"
)


async def _lock_active(
    session: AsyncSession,
    principal: TenantPrincipal,
    cart_id: uuid.UUID,
    customer_id: uuid.UUID | None,
) -> tuple[uuid.UUID | None, str | None]:
    row = (
        await session.execute(LOCK_CART_SQL, {"tenant": principal.tenant_id, "cart": cart_id})
    ).first()
    if row is None:
        raise NotFound("No such cart")
    owner, status, currency = row
    if owner is not None and (
        (customer_id is not None and customer_id != owner)
        or (customer_id is None and principal.key_kind == "publishable")
    ):
        raise NotFound("No such cart")
    if status != "active":
        raise CartNotActive(f"The cart is {status}")
    return owner, currency


def _invalid_item(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[field_error("product_id", message)])


async def add_item(
    session: AsyncSession,
    principal: TenantPrincipal,
    cart_id: uuid.UUID,
    product_id: str,
    quantity: int,
    customer_id: uuid.UUID | None,
    *,
    replace: bool = False,
) -> CartRead:
    """Add `quantity` units (or set the line to it with `replace`; 0 removes the line).

    422 for an unknown, deleted or unavailable product, or one in another currency than
    the cart's; 409 `cart-not-active` once the cart is checked out.
    """
    tenant_id = principal.tenant_id
    _, currency = await _lock_active(session, principal, cart_id, customer_id)
    params = {"tenant": tenant_id, "cart": cart_id, "product": product_id, "quantity": quantity}
    if replace and quantity == 0:
        await session.execute(
            text(
                "DELETE FROM cart_item WHERE tenant_id = :tenant AND cart_id = :cart "
                "AND product_id = :product"
            ),
            params,
        )
    else:
        snapshot = (await get_products(session, tenant_id, [product_id])).get(product_id)
        if snapshot is None or snapshot.deleted:
            raise _invalid_item(f"No product {product_id!r}")
        if not snapshot.available:
            raise _invalid_item(f"Product {product_id!r} is not available")
        if currency is not None and snapshot.currency != currency:
            raise ValidationFailed(
                f"The cart is in {currency}; {product_id!r} is priced in {snapshot.currency}",
                errors=[field_error("product_id", "currency differs from the cart's", "currency")],
            )
        total = await session.scalar(
            text(
                "INSERT INTO cart_item (tenant_id, cart_id, product_id, quantity) "
                "VALUES (:tenant, :cart, :product, :quantity) ON CONFLICT "
                "(tenant_id, cart_id, product_id) DO UPDATE SET quantity = "
                + ("excluded.quantity" if replace else "cart_item.quantity + excluded.quantity")
                + " RETURNING quantity"
            ),
            params,
        )
        if total is not None and total > MAX_QUANTITY:
            message = f"At most {MAX_QUANTITY} units of one product per cart"
            raise ValidationFailed(message, errors=[field_error("quantity", message)])
        if currency is None:
            await session.execute(
                text(
                    "UPDATE cart SET currency = :currency WHERE tenant_id = :tenant AND id = :cart"
                ),
                {"currency": snapshot.currency, "tenant": tenant_id, "cart": cart_id},
            )
    await session.execute(
        text("UPDATE cart SET updated_at = now() WHERE tenant_id = :tenant AND id = :cart"),
        {"tenant": tenant_id, "cart": cart_id},
    )
    _forget_after_commit(session, cart_key(tenant_id, cart_id))
    state = await _read_state(session, tenant_id, cart_id, cached=False)
    return await _priced(session, tenant_id, state)


# One round trip: mark the cart ordered and read its lines and the tax rate and shipping
# rule that price it (read here, not from the Redis copy: an order is priced at the rates
# committed now).
# Every table is filtered by the tenant given, not through the claimed row, so Citus routes
# the whole statement to the tenant's worker (tax rates and shipping are keyed by scope and
# currency within the tenant: at most one row per join).
CLAIM_SQL = text(
    "WITH c AS (UPDATE cart SET status = 'ordered', updated_at = now() "
    "WHERE tenant_id = :tenant AND id = :cart AND status = 'active' "
    "RETURNING customer_id, location_code, status, currency, "
    "shipping_address, billing_address, discount_code) "
    "SELECT c.customer_id, c.location_code, c.status, c.currency, "
    "coalesce((SELECT json_agg(json_build_array(i.product_id, i.quantity) "
    "ORDER BY i.product_id) FROM cart_item i "
    "WHERE i.tenant_id = :tenant AND i.cart_id = :cart), '[]'), "
    "coalesce(tl.rate, tw.rate, 0), s.flat_amount, s.free_over, "
    "c.shipping_address, c.billing_address, c.discount_code "
    "FROM c LEFT JOIN tax_rate tl ON tl.tenant_id = :tenant AND tl.scope = c.location_code "
    "LEFT JOIN tax_rate tw ON tw.tenant_id = :tenant AND tw.scope = '*' "
    "LEFT JOIN shipping_rate s ON s.tenant_id = :tenant AND s.currency = c.currency"
)


def _check_storefront_size(principal: Principal, state: CartState) -> None:
    """A browser key's checkout reserves at most `storefront_max_checkout_units` units: a
    script holding a public key must not be able to lock up the stock of a whole shop."""
    if principal.key_kind != "publishable":
        return
    units = sum(quantity for _, quantity in state.lines)
    cap = get_settings().storefront_max_checkout_units
    if units > cap:
        raise CheckoutTooLarge(
            f"A checkout from a publishable key may reserve at most {cap} units; this cart "
            f"holds {units}"
        )


async def claim_for_checkout(
    session: AsyncSession,
    principal: TenantPrincipal,
    cart_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    discount_code: str | None = None,
) -> CartRead:
    """Mark the cart ordered (undone if the transaction rolls back) and price it, with
    `discount_code` instead of the cart's own code when given.

    404 unknown cart; 409 `cart-not-active`, `empty-cart` or `items-unavailable`; a code
    that does not apply: 422 `unknown-discount-code`, 409 `discount-exhausted` or
    `discount-not-applicable` (the use itself is counted by the checkout's redemption).
    """
    tenant_id = principal.tenant_id
    row = (await session.execute(CLAIM_SQL, {"tenant": tenant_id, "cart": cart_id})).first()
    if row is None:
        state = await _read_state(session, tenant_id, cart_id, cached=False)
        _check_access(state, customer_id, principal)
        raise CartNotActive(f"The cart is {state.status}")
    state = CartState(
        id=cart_id,
        customer_id=row[0],
        location_code=row[1],
        status=row[2],
        currency=row[3],
        lines=[(str(p), int(q)) for p, q in row[4]],
        tax_rate=row[5],
        shipping_flat=row[6],
        free_over=row[7],
        shipping_address=row[8],
        billing_address=row[9],
        discount_code=normal_code(discount_code) if discount_code else row[10],
    )
    _check_access(state, customer_id, principal)
    if not state.lines:
        raise EmptyCart()
    _check_storefront_size(principal, state)
    rule = await _rule_of(session, tenant_id, state)
    priced = await _priced(session, tenant_id, state, rule)
    unusable = unusable_lines(priced)
    if unusable:
        names = ", ".join(line.product_id for line in unusable)
        raise CartItemsUnavailable(
            f"No longer available: {names}", items=[line.product_id for line in unusable]
        )
    if state.discount_code is not None:
        applicable_rule(
            rule,
            state.discount_code,
            subtotal=priced.subtotal,
            currency=state.currency,
            now=datetime.now(UTC),
        )
    _forget_after_commit(session, cart_key(tenant_id, cart_id))
    return priced


async def adopt_guest_cart(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    customer_id: uuid.UUID,
    guest_cart_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """At login: merge the guest cart into the customer's active cart (quantities add up),
    or make it theirs when they have none. Returns the customer's cart id, if any.

    A guest cart that is unknown, not active, in another currency, or someone else's is
    left alone.
    """
    own = (
        await session.execute(
            text(
                "SELECT id, currency FROM cart WHERE tenant_id = :tenant "
                "AND customer_id = :customer AND status = 'active' "
                "ORDER BY updated_at DESC LIMIT 1 FOR UPDATE"
            ),
            {"tenant": tenant_id, "customer": customer_id},
        )
    ).first()
    if guest_cart_id is None or (own is not None and own[0] == guest_cart_id):
        return None if own is None else own[0]
    guest = (
        await session.execute(LOCK_CART_SQL, {"tenant": tenant_id, "cart": guest_cart_id})
    ).first()
    if guest is None or guest[0] is not None or guest[1] != "active":
        return None if own is None else own[0]
    params = {"tenant": tenant_id, "guest": guest_cart_id, "customer": customer_id}
    if own is None:
        await session.execute(
            text(
                "UPDATE cart SET customer_id = :customer, updated_at = now() "
                "WHERE tenant_id = :tenant AND id = :guest"
            ),
            params,
        )
        _forget_after_commit(session, cart_key(tenant_id, guest_cart_id))
        return guest_cart_id
    own_id: uuid.UUID = own[0]
    own_currency = own[1]
    if own_currency is not None and guest[2] is not None and own_currency != guest[2]:
        return own_id
    await session.execute(
        text(
            "INSERT INTO cart_item (tenant_id, cart_id, product_id, quantity) "
            "SELECT tenant_id, :own, product_id, quantity FROM cart_item "
            "WHERE tenant_id = :tenant AND cart_id = :guest ON CONFLICT "
            "(tenant_id, cart_id, product_id) DO UPDATE SET quantity = "
            "least(cart_item.quantity + excluded.quantity, :most)"
        ),
        {**params, "own": own_id, "most": MAX_QUANTITY},
    )
    await session.execute(
        text(
            "UPDATE cart SET status = CASE WHEN id = :guest THEN 'merged' ELSE status END, "
            "currency = coalesce(currency, :currency), updated_at = now() "
            "WHERE tenant_id = :tenant AND id IN (:guest, :own)"
        ),
        {**params, "own": own_id, "currency": guest[2]},
    )
    _forget_after_commit(session, cart_key(tenant_id, guest_cart_id), cart_key(tenant_id, own_id))
    return own_id
