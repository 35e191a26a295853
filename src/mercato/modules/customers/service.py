"""Shopper accounts: sign-up, login with tenant-scoped tokens, profile, consent.

Customers are not staff: their tokens (`mct_…`) are random, stored only as a keyed hash,
valid for one tenant, and grant nothing on their own — a storefront sends one in
`X-Customer-Token` beside its API key to act as that shopper (their carts, their orders).
Logging in with a guest cart merges it into the customer's cart.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel import passwords
from mercato.kernel.crypto import keyed_hash
from mercato.kernel.errors import Conflict, NotFound, Unauthorized, ValidationFailed, field_error
from mercato.kernel.pagination import clamp_limit, encode_cursor, read_cursor
from mercato.kernel.permissions import Permission
from mercato.kernel.security import Principal, TenantPrincipal
from mercato.modules.customers.addresses import default_addresses
from mercato.modules.customers.guest_carts import adopt_at_login
from mercato.modules.customers.models import Customer, CustomerSession
from mercato.modules.customers.schemas import (
    CustomerLogin,
    CustomerRead,
    CustomerSignup,
    CustomerUpdate,
)
from mercato.modules.customers.schemas import CustomerSession as SessionRead

TOKEN_PREFIX = "mct_"  # noqa: S105 - a format marker, not a secret
TOKEN_PURPOSE = "customer-session"  # noqa: S105 - a key-derivation label
SESSION_TTL = timedelta(days=30)


class EmailTaken(Conflict):
    slug, title = "email-taken", "A customer with this e-mail address exists"


def to_read(customer: Customer) -> CustomerRead:
    return CustomerRead.model_validate(customer, from_attributes=True)


async def _open_session(
    session: AsyncSession, customer: Customer, guest_cart: uuid.UUID | None
) -> SessionRead:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + SESSION_TTL
    session.add(
        CustomerSession(
            tenant_id=customer.tenant_id,
            token_hash=keyed_hash(token, purpose=TOKEN_PURPOSE),
            customer_id=customer.id,
            expires_at=expires_at,
        )
    )
    cart_id = await adopt_at_login(session, customer.tenant_id, customer.id, guest_cart)
    await session.flush()
    return SessionRead(
        token=token, expires_at=expires_at, customer=to_read(customer), cart_id=cart_id
    )


async def signup(
    session: AsyncSession, principal: TenantPrincipal, body: CustomerSignup
) -> SessionRead:
    """Create a shopper account and log it in; 409 if the e-mail has an account already."""
    try:
        passwords.check_policy(body.password, email=str(body.email), name=body.name)
    except passwords.WeakPassword as exc:
        message = f"The password {exc}"
        raise ValidationFailed(message, errors=[field_error("password", message)]) from exc
    existing = await session.scalar(
        select(Customer.id).where(func.lower(Customer.email) == str(body.email).lower())
    )
    if existing is not None:
        raise EmailTaken()
    customer = Customer(
        tenant_id=principal.tenant_id,
        email=str(body.email),
        name=body.name,
        password_hash=await asyncio.to_thread(passwords.hash_password, body.password),
        marketing_consent=body.marketing_consent,
        consent_changed_at=datetime.now(UTC) if body.marketing_consent else None,
        preferences={},
        addresses=[],
    )
    session.add(customer)
    await session.flush()
    return await _open_session(session, customer, body.cart_id)


async def login(session: AsyncSession, principal: Principal, body: CustomerLogin) -> SessionRead:
    """Exchange e-mail and password for a customer token (401 alike for unknown e-mails)."""
    customer = await session.scalar(
        select(Customer).where(func.lower(Customer.email) == str(body.email).lower())
    )
    if customer is None or customer.password_hash is None:
        await asyncio.to_thread(passwords.burn_verification_time, body.password)
        raise Unauthorized("The e-mail address or password is wrong")
    if not await asyncio.to_thread(
        passwords.verify_password, customer.password_hash, body.password
    ):
        raise Unauthorized("The e-mail address or password is wrong")
    return await _open_session(session, customer, body.cart_id)


async def resolve_customer(session: AsyncSession, token: str | None) -> Customer | None:
    """The customer a token belongs to (in the session's tenant); None without a token.

    A token that is unknown, expired or of another tenant is a 401.
    """
    if token is None:
        return None
    if not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("X-Customer-Token is not a customer token")
    row = await session.execute(
        select(Customer, CustomerSession.expires_at)
        .join(
            CustomerSession,
            (CustomerSession.tenant_id == Customer.tenant_id)
            & (CustomerSession.customer_id == Customer.id),
        )
        .where(CustomerSession.token_hash == keyed_hash(token, purpose=TOKEN_PURPOSE))
    )
    found = row.first()
    if found is None or found[1] <= datetime.now(UTC):
        raise Unauthorized("The customer token is not valid or has expired")
    customer: Customer = found[0]
    return customer


def require_customer(customer: Customer | None) -> Customer:
    if customer is None:
        raise Unauthorized("Send the shopper's X-Customer-Token")
    return customer


async def logout(session: AsyncSession, token: str) -> None:
    await session.execute(
        delete(CustomerSession).where(
            CustomerSession.token_hash == keyed_hash(token, purpose=TOKEN_PURPOSE)
        )
    )


async def update_profile(
    session: AsyncSession, customer: Customer, body: CustomerUpdate
) -> Customer:
    """Change name, preferences, addresses (replaced whole) or marketing consent."""
    if body.name is not None:
        customer.name = body.name
    if body.preferences is not None:
        customer.preferences = body.preferences
    if body.addresses is not None:
        customer.addresses = [a.model_dump() for a in body.addresses]
    if body.marketing_consent is not None and body.marketing_consent != customer.marketing_consent:
        customer.marketing_consent = body.marketing_consent
        customer.consent_changed_at = datetime.now(UTC)
    await session.flush()
    await session.refresh(customer)
    return customer


async def get_customer(
    session: AsyncSession, principal: TenantPrincipal, customer_id: uuid.UUID
) -> Customer:
    principal.require(Permission.CUSTOMERS_READ)
    customer = await session.get(Customer, (principal.tenant_id, customer_id))
    if customer is None:
        raise NotFound("No such customer")
    return customer


async def checkout_addresses(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The (shipping, billing) defaults of a customer's address book (`default_addresses`)."""
    book = await session.scalar(
        select(Customer.addresses).where(
            Customer.tenant_id == tenant_id, Customer.id == customer_id
        )
    )
    return default_addresses(book or [])


async def list_customers(
    session: AsyncSession,
    principal: Principal,
    *,
    email: str | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[Customer], str | None]:
    """Customers newest first; `email` filters by a case-insensitive prefix."""
    principal.require(Permission.CUSTOMERS_READ)
    size = clamp_limit(limit)
    query = select(Customer).order_by(Customer.id.desc())
    if email:
        escaped = email.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Customer.email).like(escaped + "%"))
    position = read_cursor(cursor, lambda c: uuid.UUID(str(c["id"])))
    if position is not None:
        query = query.where(Customer.id < position)
    rows = list((await session.scalars(query.limit(size + 1))).all())
    next_cursor = encode_cursor({"id": str(rows[size - 1].id)}) if len(rows) > size else None
    return rows[:size], next_cursor
