"""Inventory: stock per product and location, reservations, and the movement ledger.

Public surface for other modules: `reserve_stock`, `release_stock`, `sell_reserved_stock`,
`sell_unreserved_stock`, `return_stock`, `restock_units`, `transfer_sold_stock` (each
takes a tenant-scoped session and `Allocation`s), `available_units`,
`available_by_location`, `InsufficientStock`; events `inventory.low_stock` and
`inventory.stock_changed` `{"product_ids"}` (units available changed). The dashboard
reads and sets stock (`list_stock`, `set_on_hand`, `StockWrite`); the demo seed writes
stock with its history (`seed_stock_history`).
"""

from mercato.modules.inventory.reading import list_stock
from mercato.modules.inventory.schemas import StockWrite
from mercato.modules.inventory.seeding import seed_stock_history
from mercato.modules.inventory.service import (
    LOW_STOCK_EVENT,
    STOCK_CHANGED_EVENT,
    Allocation,
    InsufficientStock,
    available_by_location,
    available_units,
    release_stock,
    reserve_stock,
    restock_units,
    return_stock,
    sell_reserved_stock,
    sell_unreserved_stock,
    set_on_hand,
    transfer_sold_stock,
)

__all__ = [
    "LOW_STOCK_EVENT",
    "STOCK_CHANGED_EVENT",
    "Allocation",
    "InsufficientStock",
    "StockWrite",
    "available_by_location",
    "available_units",
    "list_stock",
    "release_stock",
    "reserve_stock",
    "restock_units",
    "return_stock",
    "seed_stock_history",
    "sell_reserved_stock",
    "sell_unreserved_stock",
    "set_on_hand",
    "transfer_sold_stock",
]
