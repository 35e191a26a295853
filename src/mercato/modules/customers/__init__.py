"""Customers: shopper accounts with their own tenant-scoped login, separate from staff.

Public surface: `CustomerToken` (the `X-Customer-Token` header), `resolve_customer`,
`require_customer`, `get_customer`, and `adopt_guest_carts_with` (how the cart module
merges a guest cart at login without customers importing it); for the demo seed,
`seed_customers`. Postal addresses serve carts and orders too: `PostalAddress` checks one
as given, `AddressRead` is one as stored, `checkout_addresses` reads an address book's
defaults.
"""

from mercato.modules.customers.addresses import (
    AddressRead,
    PostalAddress,
    stored_address,
)
from mercato.modules.customers.guest_carts import adopt_guest_carts_with
from mercato.modules.customers.seeding import seed_customers
from mercato.modules.customers.service import (
    checkout_addresses,
    get_customer,
    require_customer,
    resolve_customer,
)
from mercato.modules.customers.tokens import CustomerToken

__all__ = [
    "AddressRead",
    "CustomerToken",
    "PostalAddress",
    "adopt_guest_carts_with",
    "checkout_addresses",
    "get_customer",
    "require_customer",
    "resolve_customer",
    "seed_customers",
    "stored_address",
]
