"""The compact training dataset every strategy fits on, built from events and the catalog.

Products and users get dense integer indexes (sorted ids, so an id is found by binary
search and the index survives a save/load). Each product event becomes a weighted
interaction: views < add-to-cart < purchase, times an exponential decay with a
configurable half-life, so last month's browsing counts less than yesterday's purchase.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from mercato.modules.recommendations.event_log import CatalogTable, EventLog, StrArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
SECONDS_PER_DAY = 86_400.0


class Signal(IntEnum):
    """How strongly an event says a shopper wants a product."""

    VIEW = 0
    CART = 1
    PURCHASE = 2


SIGNAL_OF_EVENT_TYPE: dict[str, Signal] = {
    "view_item": Signal.VIEW,
    "click": Signal.VIEW,
    "add_to_cart": Signal.CART,
    "begin_checkout": Signal.CART,
    "purchase": Signal.PURCHASE,
}
"""Event types that count as interest in a product; the others (impressions, searches,
page views, removals) carry no preference and are left out."""


@dataclass(frozen=True)
class InteractionSettings:
    """Weights per signal and the decay half-life; views < add-to-cart < purchase."""

    view_weight: float = 1.0
    cart_weight: float = 3.0
    purchase_weight: float = 5.0
    half_life_days: float = 30.0
    session_gap_minutes: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.view_weight <= self.cart_weight <= self.purchase_weight:
            raise ValueError("weights must satisfy 0 < view <= add_to_cart <= purchase")
        if self.half_life_days <= 0 or self.session_gap_minutes <= 0:
            raise ValueError("half-life and session gap must be positive")

    def signal_weights(self) -> FloatArray:
        return np.array([self.view_weight, self.cart_weight, self.purchase_weight])


def positions(sorted_ids: StrArray, wanted: StrArray) -> IntArray:
    """Index of each wanted id in `sorted_ids`, -1 for ids not there."""
    if sorted_ids.size == 0:
        return np.full(wanted.shape[0], -1, dtype=np.int64)
    found = np.searchsorted(sorted_ids, wanted).astype(np.int64)
    clipped = np.minimum(found, sorted_ids.size - 1)
    return np.where(sorted_ids[clipped] == wanted, clipped, -1)


def decay(age_seconds: FloatArray, half_life_days: float) -> FloatArray:
    """Exponential time decay: 1 now, 0.5 one half-life ago; future times count as now."""
    age_days = np.maximum(age_seconds, 0.0) / SECONDS_PER_DAY
    return np.asarray(np.exp2(-age_days / half_life_days), dtype=np.float64)


@dataclass(frozen=True)
class ProductEvents:
    """Interest events as dense indexes, sorted by session then time.

    `weight` is the signal weight times the time decay; `basket` numbers the order (or,
    without an order id, the session) of a purchase and is -1 on other events.
    """

    user: IntArray
    session: IntArray
    product: IntArray
    time: FloatArray
    signal: NDArray[np.int8]
    weight: FloatArray
    basket: IntArray

    def __len__(self) -> int:
        return int(self.product.shape[0])


@dataclass(frozen=True)
class InteractionData:
    """Everything a strategy fits on. Row `i` of `products` is product index `i`."""

    products: CatalogTable
    user_ids: StrArray
    events: ProductEvents
    user_items: sp.csr_matrix
    purchased: sp.csr_matrix
    now: float
    settings: InteractionSettings = field(default_factory=InteractionSettings)

    @property
    def product_count(self) -> int:
        return len(self.products)

    @property
    def user_count(self) -> int:
        return int(self.user_ids.shape[0])


def _signals(event_types: StrArray) -> NDArray[np.int8]:
    signal = np.full(event_types.shape[0], -1, dtype=np.int8)
    for event_type, value in SIGNAL_OF_EVENT_TYPE.items():
        signal[event_types == event_type] = value
    return signal


def _aligned_catalog(product_ids: StrArray, catalog: CatalogTable | None) -> CatalogTable:
    """Catalog facts for every indexed product; products only seen in events are
    recommendable only when there is no catalog at all (a bare click log)."""
    count = product_ids.shape[0]
    blank = np.full(count, "", dtype="<U1")
    table = CatalogTable(
        product_id=product_ids,
        name=blank,
        brand=blank,
        category=blank,
        description=blank,
        attributes=blank,
        price=np.full(count, np.nan),
        available=np.full(count, catalog is None),
        deleted=np.zeros(count, dtype=np.bool_),
        created_at=np.full(count, np.nan),
    )
    if catalog is None or len(catalog) == 0:
        return table
    where = np.searchsorted(product_ids, catalog.product_id)
    columns = {}
    for name in ("name", "brand", "category", "description", "attributes"):
        source = getattr(catalog, name)
        column = np.full(count, "", dtype=source.dtype)
        column[where] = source
        columns[name] = column
    price, created_at = table.price.copy(), table.created_at.copy()
    available, deleted = table.available.copy(), table.deleted.copy()
    price[where], created_at[where] = catalog.price, catalog.created_at
    available[where], deleted[where] = catalog.available, catalog.deleted
    return CatalogTable(
        product_id=product_ids,
        price=price,
        available=available,
        deleted=deleted,
        created_at=created_at,
        **columns,
    )


def _sessions(events: EventLog, users: IntArray, gap_seconds: float) -> IntArray:
    """Session numbers: the tracked `session_id`, or for events without one, a new
    session after `gap_seconds` of inactivity of the same user."""
    has_id = events.session_id != ""
    sessions = np.empty(len(events), dtype=np.int64)
    _, tracked = np.unique(events.session_id[has_id], return_inverse=True)
    sessions[has_id] = tracked
    offset = int(tracked.max()) + 1 if tracked.size else 0
    missing = np.flatnonzero(~has_id)
    if missing.size:
        order = missing[np.lexsort((events.timestamp[missing], users[missing]))]
        new_user = np.r_[True, users[order][1:] != users[order][:-1]]
        idle = np.r_[True, np.diff(events.timestamp[order]) > gap_seconds]
        sessions[order] = offset + np.cumsum(new_user | idle) - 1
    return sessions


def _baskets(events: EventLog, sessions: IntArray, signal: NDArray[np.int8]) -> IntArray:
    """Order number of each purchase; a purchase without order id shares its session's."""
    basket = np.full(len(events), -1, dtype=np.int64)
    purchase = signal == Signal.PURCHASE
    with_order = purchase & (events.order_id != "")
    _, orders = np.unique(events.order_id[with_order], return_inverse=True)
    basket[with_order] = orders
    offset = int(orders.max()) + 1 if orders.size else 0
    without = purchase & ~with_order
    basket[without] = offset + sessions[without]
    return basket


def build_interactions(
    events: EventLog,
    catalog: CatalogTable | None = None,
    *,
    settings: InteractionSettings | None = None,
    now: float | None = None,
) -> InteractionData:
    """Index products and users, weight and decay interest events, build the matrices.

    `catalog=None` means a bare click log: every product seen is treated as available.
    With a catalog, products only known from events stay in the index (their
    co-occurrences still inform neighbours) but are never recommended. `now` (Unix
    seconds) anchors the decay; by default the newest event, so a replay is stable.
    """
    settings = settings or InteractionSettings()
    signal = _signals(events.type)
    keep = (
        (signal >= 0)
        & (events.product_id != "")
        & (events.user_id != "")
        & np.isfinite(events.timestamp)
    )
    kept, signal = events.select(keep), signal[keep]
    event_products = np.unique(kept.product_id)
    product_ids = (
        event_products if catalog is None else np.union1d(catalog.product_id, event_products)
    )
    products = _aligned_catalog(product_ids, catalog)
    user_ids, users = np.unique(kept.user_id, return_inverse=True)
    users = users.astype(np.int64)
    if now is None:
        now = float(kept.timestamp.max()) if len(kept) else 0.0
    sessions = _sessions(kept, users, settings.session_gap_minutes * 60.0)
    baskets = _baskets(kept, sessions, signal)
    weights = settings.signal_weights()[signal] * decay(
        now - kept.timestamp, settings.half_life_days
    )
    order = np.lexsort((kept.timestamp, sessions))
    product_index = positions(product_ids, kept.product_id)
    product_events = ProductEvents(
        user=users[order],
        session=sessions[order],
        product=product_index[order],
        time=kept.timestamp[order],
        signal=signal[order],
        weight=weights[order],
        basket=baskets[order],
    )
    shape = (user_ids.shape[0], product_ids.shape[0])
    user_items = sp.csr_matrix((weights.astype(np.float32), (users, product_index)), shape=shape)
    user_items.sum_duplicates()
    bought = signal == Signal.PURCHASE
    purchased = sp.csr_matrix(
        (np.ones(int(bought.sum()), dtype=np.bool_), (users[bought], product_index[bought])),
        shape=shape,
    )
    purchased.sum_duplicates()
    return InteractionData(
        products=products,
        user_ids=user_ids,
        events=product_events,
        user_items=user_items,
        purchased=purchased,
        now=now,
        settings=settings,
    )
