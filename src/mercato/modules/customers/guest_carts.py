"""What happens to a guest cart when its shopper logs in.

The cart module (which builds on this one: carts belong to customers) installs its
adoption with `adopt_guest_carts_with` when it is imported, so customers never imports
cart. The adoption runs inside the login's transaction and answers the customer's cart.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

GuestCartAdoption = Callable[
    [AsyncSession, uuid.UUID, uuid.UUID, uuid.UUID | None], Awaitable[uuid.UUID | None]
]
"""`(session, tenant_id, customer_id, guest_cart_id)` → the customer's cart id, if any."""

_adopt: list[GuestCartAdoption] = []


def adopt_guest_carts_with(adoption: GuestCartAdoption) -> None:
    """Install the cart module's adoption (replacing any earlier one)."""
    _adopt[:] = [adoption]


async def adopt_at_login(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, guest: uuid.UUID | None
) -> uuid.UUID | None:
    if not _adopt:
        raise RuntimeError("No guest-cart adoption installed: the cart module is not loaded")
    return await _adopt[0](session, tenant_id, customer_id, guest)
