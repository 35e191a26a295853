"""Customers: shopper accounts with their own tenant-scoped login, separate from staff.

Public surface: `CustomerToken` (the `X-Customer-Token` header), `resolve_customer`,
`require_customer`, `get_customer`.
"""

from mercato.modules.customers.service import get_customer, require_customer, resolve_customer
from mercato.modules.customers.tokens import CustomerToken

__all__ = ["CustomerToken", "get_customer", "require_customer", "resolve_customer"]
