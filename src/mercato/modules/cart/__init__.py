"""Carts: lines in PostgreSQL behind a Redis read cache, priced from the catalog on read.

Public surface: `claim_for_checkout` (orders), `adopt_guest_cart` (customers at login),
`CartRead`.
"""

from mercato.modules.cart.schemas import CartRead
from mercato.modules.cart.service import CartNotActive, adopt_guest_cart, claim_for_checkout

__all__ = ["CartNotActive", "CartRead", "adopt_guest_cart", "claim_for_checkout"]
