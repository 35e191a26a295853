"""Customers: shopper accounts with their own tenant-scoped login, separate from staff.

Public surface: `CustomerToken` (the `X-Customer-Token` header), `resolve_customer`,
`require_customer`, `get_customer`, and `adopt_guest_carts_with` (how the cart module
merges a guest cart at login without customers importing it); for the demo seed,
`seed_customers`.
"""

from mercato.modules.customers.guest_carts import adopt_guest_carts_with
from mercato.modules.customers.seeding import seed_customers
from mercato.modules.customers.service import get_customer, require_customer, resolve_customer
from mercato.modules.customers.tokens import CustomerToken

__all__ = [
    "CustomerToken",
    "adopt_guest_carts_with",
    "get_customer",
    "require_customer",
    "resolve_customer",
    "seed_customers",
]
