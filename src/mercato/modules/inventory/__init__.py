"""Inventory: stock per product and location, reservations, and the movement ledger.

Public surface for other modules: `reserve_stock`, `release_stock`, `sell_reserved_stock`,
`sell_unreserved_stock`, `return_stock` (each takes a tenant-scoped session and
`Allocation`s), `available_units`, `InsufficientStock`; event `inventory.low_stock`.
"""

from mercato.modules.inventory.service import (
    LOW_STOCK_EVENT,
    Allocation,
    InsufficientStock,
    available_units,
    release_stock,
    reserve_stock,
    return_stock,
    sell_reserved_stock,
    sell_unreserved_stock,
)

__all__ = [
    "LOW_STOCK_EVENT",
    "Allocation",
    "InsufficientStock",
    "available_units",
    "release_stock",
    "reserve_stock",
    "return_stock",
    "sell_reserved_stock",
    "sell_unreserved_stock",
]
