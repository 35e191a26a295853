"""Discount codes: the merchant's CRUD, the rule a cart prices with, and redemption.

Redemption is how a code is counted exactly once per order even when checkouts race:
`redeem` runs inside the checkout's transaction as one conditional UPDATE of the code's
row (`times_used < usage_limit`, active, within its window), which takes the row lock, so
concurrent checkouts queue on it and each re-reads the count the previous one committed;
then, for a code with a per-customer limit, a conditional upsert of the customer's
`discount_customer_use` row. When the checkout fails later (no stock, an error, a lost
connection) its transaction rolls back and the use with it. Lock order: the code's row,
then the customer's.

A cancelled order gives its use back (`release`): a reservation that expired unpaid does
not spend a limited code.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.deps import RequestMeta
from mercato.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.audit import field_changes, record_audit
from mercato.modules.discounts.allocation import (
    DiscountRule,
    used_up,
    why_not_applicable,
    why_not_usable,
)
from mercato.modules.discounts.models import Discount
from mercato.modules.discounts.schemas import DiscountRead, DiscountWrite


class DiscountExhausted(Conflict):
    slug, title = "discount-exhausted", "The discount code has been used as often as it may be"


class DiscountNotApplicable(Conflict):
    slug, title = "discount-not-applicable", "The discount code does not apply to this order"


class UnknownDiscount(ValidationFailed):
    slug, title = "unknown-discount-code", "There is no such discount code"

    def __init__(self, code: str, field: str = "discount_code") -> None:
        message = f"No discount code {code!r}"
        super().__init__(message, errors=[field_error(field, message, "unknown")])


def normal_code(code: str) -> str:
    """Codes are matched whatever case a shopper types them in."""
    return code.upper()


def customer_key(customer_id: uuid.UUID | None, email: str) -> str:
    """Whom a per-customer limit counts: the account, else a guest's e-mail address."""
    return f"customer:{customer_id}" if customer_id is not None else f"email:{email.lower()}"


def to_read(row: Discount) -> DiscountRead:
    return DiscountRead.model_validate(row, from_attributes=True)


def to_rule(row: Discount) -> DiscountRule:
    return DiscountRule(
        code=row.code,
        kind=row.kind,
        value=row.value,
        currency=row.currency,
        min_order=row.min_order,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        usage_limit=row.usage_limit,
        times_used=row.times_used,
        active=row.active,
    )


async def put_discount(
    session: AsyncSession,
    principal: TenantPrincipal,
    code: str,
    body: DiscountWrite,
    meta: RequestMeta | None = None,
) -> tuple[DiscountRead, bool]:
    """Create or replace a code's terms (its use count stays), audited; returns it and
    whether it is new. 422 for a usage limit below the uses already made."""
    principal.require(Permission.ORDERS_WRITE)
    code = normal_code(code)
    row = await session.get(
        Discount, (principal.tenant_id, code), with_for_update=True, populate_existing=True
    )
    before = {} if row is None else _terms(to_read(row))
    if row is None:
        row = Discount(tenant_id=principal.tenant_id, code=code, times_used=0)
        session.add(row)
    elif body.usage_limit is not None and body.usage_limit < row.times_used:
        message = f"The code has been used {row.times_used} times already"
        raise ValidationFailed(message, errors=[field_error("usage_limit", message)])
    for name, value in body.model_dump().items():
        setattr(row, name, value)
    await session.flush()
    await session.refresh(row)
    discount = to_read(row)
    await record_audit(
        session,
        actor=principal,
        action="discount.replaced" if before else "discount.created",
        target=f"discount:{code}",
        changes=field_changes(before, _terms(discount)),
        meta=meta,
    )
    return discount, not before


def _terms(discount: DiscountRead) -> dict[str, Any]:
    return discount.model_dump(mode="json", include=set(DiscountWrite.model_fields))


async def get_discount(session: AsyncSession, principal: Principal, code: str) -> DiscountRead:
    principal.require(Permission.ORDERS_READ)
    row = await session.get(Discount, (principal.tenant_id, normal_code(code)))
    if row is None:
        raise NotFound(f"No discount code {code!r}")
    return to_read(row)


async def list_discounts(
    session: AsyncSession,
    principal: Principal,
    *,
    active: bool | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[DiscountRead], str | None]:
    """Codes in alphabetical order, optionally only the active or inactive ones."""
    principal.require(Permission.ORDERS_READ)
    size = clamp_limit(limit)
    query = select(Discount).order_by(Discount.code)
    if active is not None:
        query = query.where(Discount.active.is_(active))
    after = read_cursor(cursor, lambda c: str(c["code"]))
    if after is not None:
        query = query.where(Discount.code > after)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = encode_cursor({"code": rows[size - 1].code}) if len(rows) > size else None
    return [to_read(r) for r in rows[:size]], next_cursor


async def find_rule(
    session: AsyncSession, tenant_id: uuid.UUID, code: str, *, fresh: bool = False
) -> DiscountRule | None:
    """The terms of a code (any case), or None when the tenant has no such code.

    `fresh` reads the row again even when the session holds it already (its use count may
    have moved since: another checkout committed).
    """
    row = await session.get(Discount, (tenant_id, normal_code(code)), populate_existing=fresh)
    return None if row is None else to_rule(row)


def _exhausted(rule: DiscountRule) -> DiscountExhausted:
    return DiscountExhausted(
        f"The code {rule.code} has been used {rule.times_used} times, its limit",
        code=rule.code,
        scope="total",
    )


def applicable_rule(
    rule: DiscountRule | None,
    code: str,
    *,
    subtotal: Decimal,
    currency: str | None,
    now: datetime,
    field: str = "discount_code",
) -> DiscountRule:
    """`rule` when it applies to a cart of `subtotal` in `currency`; otherwise 422
    `unknown-discount-code`, 409 `discount-exhausted` or 409 `discount-not-applicable`."""
    if rule is None:
        raise UnknownDiscount(code, field)
    if used_up(rule):
        raise _exhausted(rule)
    reason = why_not_applicable(rule, subtotal=subtotal, currency=currency, now=now)
    if reason is not None:
        raise DiscountNotApplicable(reason, code=rule.code)
    return rule


REDEEM_SQL = text(
    "UPDATE discount SET times_used = times_used + 1, updated_at = now() "
    "WHERE tenant_id = :tenant AND code = :code AND active "
    "AND (usage_limit IS NULL OR times_used < usage_limit) "
    "AND (starts_at IS NULL OR starts_at <= :now) AND (ends_at IS NULL OR :now < ends_at) "
    "RETURNING per_customer_limit"
)
REDEEM_FOR_CUSTOMER_SQL = text(
    "INSERT INTO discount_customer_use AS u (tenant_id, code, customer_key, times_used) "
    "VALUES (:tenant, :code, :customer, 1) ON CONFLICT (tenant_id, code, customer_key) "
    "DO UPDATE SET times_used = u.times_used + 1 WHERE u.times_used < :most "
    "RETURNING times_used"
)


async def redeem(session: AsyncSession, tenant_id: uuid.UUID, code: str, customer: str) -> None:
    """Count one use of `code` by `customer` (see `customer_key`) in the caller's transaction.

    409 `discount-exhausted` when the code or this customer's share of it is used up,
    409 `discount-not-applicable` when it was deactivated or left its window meanwhile,
    422 `unknown-discount-code` when it was deleted with its tenant's data.
    """
    code = normal_code(code)
    now = datetime.now(UTC)
    params = {"tenant": tenant_id, "code": code, "now": now}
    redeemed = (await session.execute(REDEEM_SQL, params)).first()
    if redeemed is None:
        rule = await find_rule(session, tenant_id, code, fresh=True)
        if rule is None:
            raise UnknownDiscount(code)
        if used_up(rule):
            raise _exhausted(rule)
        reason = why_not_usable(rule, now=now) or "The code cannot be used now"
        raise DiscountNotApplicable(reason, code=code)
    most = redeemed[0]
    if most is None:
        return
    counted = await session.scalar(
        REDEEM_FOR_CUSTOMER_SQL, {**params, "customer": customer, "most": most}
    )
    if counted is None:
        raise DiscountExhausted(
            f"This customer has used the code {code} {most} times, its limit per customer",
            code=code,
            scope="customer",
        )


async def release(session: AsyncSession, tenant_id: uuid.UUID, code: str, customer: str) -> None:
    """Give back one use of `code` by `customer` (their order was cancelled)."""
    params = {"tenant": tenant_id, "code": normal_code(code), "customer": customer}
    await session.execute(
        text(
            "UPDATE discount SET times_used = times_used - 1, updated_at = now() "
            "WHERE tenant_id = :tenant AND code = :code AND times_used > 0"
        ),
        params,
    )
    await session.execute(
        text(
            "UPDATE discount_customer_use SET times_used = times_used - 1 "
            "WHERE tenant_id = :tenant AND code = :code AND customer_key = :customer "
            "AND times_used > 0"
        ),
        params,
    )
