"""`{T}/customers`: shopper sign-up, login, profile (storefront) and listing (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from mercato.kernel.deps import DbSession
from mercato.kernel.errors import Unauthorized
from mercato.kernel.pagination import Page
from mercato.kernel.permissions import Permission
from mercato.kernel.security import TenantPrincipal
from mercato.modules.customers import service
from mercato.modules.customers.schemas import (
    CustomerLogin,
    CustomerRead,
    CustomerSession,
    CustomerSignup,
    CustomerUpdate,
)
from mercato.modules.customers.tokens import CustomerToken
from mercato.modules.identity import limit_login_attempt, require

router = APIRouter(prefix="/api/v1/tenants/{tenant_id}/customers", tags=["customers"])
Storefront = Annotated[TenantPrincipal, require(Permission.CHECKOUT_WRITE)]
Reader = Annotated[TenantPrincipal, require(Permission.CUSTOMERS_READ)]


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=CustomerSession)
async def signup(
    body: CustomerSignup, principal: Storefront, session: DbSession
) -> CustomerSession:
    """Create a shopper account; answers a customer token (and takes a guest cart along)."""
    return await service.signup(session, principal, body)


@router.post("/login", response_model=CustomerSession)
async def login(
    body: CustomerLogin, principal: Storefront, session: DbSession, request: Request
) -> CustomerSession:
    """Customer token for e-mail and password; a guest `cart_id` merges into their cart.

    Ten attempts a minute per client address and e-mail, as for staff logins (429).
    """
    await limit_login_attempt(request, str(body.email))
    return await service.login(session, principal, body)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    principal: Storefront, session: DbSession, token: CustomerToken = None
) -> Response:
    if token is None:
        raise Unauthorized("Send the shopper's X-Customer-Token")
    await service.logout(session, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=CustomerRead)
async def get_me(
    principal: Storefront, session: DbSession, token: CustomerToken = None
) -> CustomerRead:
    customer = service.require_customer(await service.resolve_customer(session, token))
    return service.to_read(customer)


@router.patch("/me", response_model=CustomerRead)
async def update_me(
    body: CustomerUpdate, principal: Storefront, session: DbSession, token: CustomerToken = None
) -> CustomerRead:
    """Name, preferences, addresses (replaced whole) and marketing consent."""
    customer = service.require_customer(await service.resolve_customer(session, token))
    return service.to_read(await service.update_profile(session, customer, body))


@router.get("", response_model=Page[CustomerRead])
async def list_customers(
    principal: Reader,
    session: DbSession,
    email: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[CustomerRead]:
    rows, next_cursor = await service.list_customers(
        session, principal, email=email, limit=limit, cursor=cursor
    )
    return Page[CustomerRead](data=[service.to_read(r) for r in rows], next_cursor=next_cursor)


# `:uuid` keeps `/login`, `/signup`… from matching this path (and its Allow header).
@router.get("/{customer_id:uuid}", response_model=CustomerRead)
async def get_customer(
    customer_id: uuid.UUID, principal: Reader, session: DbSession
) -> CustomerRead:
    return service.to_read(await service.get_customer(session, principal, customer_id))
