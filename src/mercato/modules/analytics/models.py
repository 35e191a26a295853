"""Analytics rollups: compact daily tables the dashboards and reports read instead of `event`.

Days are the tenant's local calendar days (its `settings.timezone`, UTC by default) so a
day/week/month series needs no time-zone arithmetic at read time. `location_code` and
`product_id` are '' for events without one (primary-key columns cannot be NULL).

Distinct sessions and users. Counts of distinct visitors over an arbitrary range cannot be
summed from per-day counts (a user active on two days would count twice), and a sketch
(HyperLogLog) would make the "exact ground truth" checks impossible. So
`analytics_session_day` keeps one narrow row per (day, location, session): a range's
sessions are `count(DISTINCT session_key)` and its users `count(DISTINCT user_id)` over
those rows. It is roughly one row per session (a few % of the events), exact, and the
same rows answer the funnel (`steps` is a bitmask of the funnel steps reached, and the
`first_*_at` columns the first time of each step, for the closed funnel) and the
conversion rate (sessions with a purchase / sessions). A session is the event's
`session_id`, or the user's local day when the event has none.

Counting distinct keys over those rows still reads one row per session of the range
(600,000 for 30 days of a 10 M-event shop). `analytics_reach_day` answers the same counts
for all locations together from a few thousand rows: each day's visitors grouped by the
day they were last seen before (`since`), so a range's distinct visitors are the visitors
of its days whose previous visit falls before the range (see `ReachDay`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, DateTime, Index, Numeric, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.kernel.orm import Base, tenant_id_column, updated_at_column

MONEY = Numeric(18, 4)


def _count() -> Mapped[int]:
    return mapped_column(BigInteger, default=0, server_default="0")


class RollupState(Base):
    """How far a tenant's rollups go: every event with `occurred_at < rolled_until` is in them."""

    __tablename__ = "analytics_rollup_state"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    rolled_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(BigInteger, default=0)  # bumps on every change
    updated_at: Mapped[datetime] = updated_at_column()


class DayTotal(Base):
    """Event counts and revenue per local day and location (the overview's ~30-row scan)."""

    __tablename__ = "analytics_day_total"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    page_views: Mapped[int] = _count()
    product_views: Mapped[int] = _count()
    searches: Mapped[int] = _count()
    add_to_carts: Mapped[int] = _count()
    begin_checkouts: Mapped[int] = _count()
    purchases: Mapped[int] = _count()
    units: Mapped[int] = _count()
    revenue: Mapped[Decimal] = mapped_column(MONEY, default=0, server_default="0")
    impressions: Mapped[int] = _count()
    clicks: Mapped[int] = _count()


class ProductDay(Base):
    """Per product, local day and location: views, carts, checkouts, purchases, units, revenue."""

    __tablename__ = "analytics_product_day"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    views: Mapped[int] = _count()
    add_to_carts: Mapped[int] = _count()
    begin_checkouts: Mapped[int] = _count()
    purchases: Mapped[int] = _count()
    units: Mapped[int] = _count()
    revenue: Mapped[Decimal] = mapped_column(MONEY, default=0, server_default="0")


class SessionDay(Base):
    """One row per session, local day and location (see the module docstring)."""

    __tablename__ = "analytics_session_day"
    __table_args__ = (
        # A session's and a user's earlier days: `ReachDay.since` and the live tail's check.
        Index("ix_analytics_session_day_session", "tenant_id", "session_key", "day"),
        Index("ix_analytics_session_day_user", "tenant_id", "user_id", "day"),
    )

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    session_key: Mapped[str] = mapped_column(Text, primary_key=True)
    # In the key: a session that logs in mid-way carries two user ids, both are users.
    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    steps: Mapped[int] = mapped_column(SmallInteger, default=0)  # FUNNEL_BITS
    # The row's first occurrence of each funnel step (NULL: not on this row). The closed
    # funnel needs the order of steps across a session's rows (days, locations, user ids,
    # the rolled part and the raw tail), which a per-row bitmask or level cannot give.
    first_view_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_cart_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_checkout_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_purchase_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrderDay(Base):
    """One row per order (distinct `properties.order_id`; a purchase without one is its own
    order) and local day and location: `purchases` and the average order value count orders,
    not order lines, and an order's lines may be rolled up in different runs."""

    __tablename__ = "analytics_order_day"
    __table_args__ = (Index("ix_analytics_order_day_order", "tenant_id", "order_key", "day"),)

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    location_code: Mapped[str] = mapped_column(Text, primary_key=True)
    order_key: Mapped[str] = mapped_column(Text, primary_key=True)


class ReachDay(Base):
    """Distinct visitors of every location together, per local day and previous day seen.

    `kind` is `session`, `user`, `order` or a funnel step reached by a session (`viewing`,
    `adding`, `checking_out`, `purchasing`); `visitors` counts those seen on `day` whose
    previous day of that kind was `since` ('-infinity' for a first visit). A range's
    distinct visitors are the rows of its days with `since` before the range: each visitor
    is counted once, on its first day in the range. Recounted from `SessionDay` and
    `OrderDay` for every day from the earliest one a rollup run changed (`rollup.recount_reach`).
    """

    __tablename__ = "analytics_reach_day"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    since: Mapped[date] = mapped_column(Date, primary_key=True)
    visitors: Mapped[int] = _count()


class PlacementDay(Base):
    """Personalization per local day x placement x strategy x variant.

    Conversions and revenue are the purchase events that carry the placement (the SDK tags
    a purchase with the placement whose recommendation led to it).
    """

    __tablename__ = "analytics_placement_day"

    tenant_id: Mapped[uuid.UUID] = tenant_id_column()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    placement: Mapped[str] = mapped_column(Text, primary_key=True)
    strategy: Mapped[str] = mapped_column(Text, primary_key=True)
    variant: Mapped[str] = mapped_column(Text, primary_key=True)
    impressions: Mapped[int] = _count()
    clicks: Mapped[int] = _count()
    conversions: Mapped[int] = _count()
    revenue: Mapped[Decimal] = mapped_column(MONEY, default=0, server_default="0")
