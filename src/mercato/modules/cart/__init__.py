"""Carts: lines in PostgreSQL behind a Redis read cache, priced from the catalog on read.

Public surface: `claim_for_checkout` (orders), `adopt_guest_cart`, `CartRead`. Importing
the package installs the guest-cart adoption into customers' login.
"""

from mercato.modules.cart.schemas import CartRead
from mercato.modules.cart.service import CartNotActive, adopt_guest_cart, claim_for_checkout
from mercato.modules.customers import adopt_guest_carts_with

adopt_guest_carts_with(adopt_guest_cart)

__all__ = ["CartNotActive", "CartRead", "adopt_guest_cart", "claim_for_checkout"]
