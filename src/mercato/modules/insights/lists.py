"""The four task lists as SQL over the event log: what a sales rep should act on.

- purchase follow-ups: orders of the last days, newest first;
- cart abandonment: shoppers who added to a cart at least `abandon_hours` ago and have not
  bought anything since their first add, ranked by cart value;
- search gaps: normalised queries that found nothing (or almost nothing), or that never
  led to a product view within 30 minutes, ranked by zero-result searches;
- repeat visitors: shoppers with several visits, clear intent (views, carts, checkouts)
  and no purchase in the window, ranked by an intent score.

Each row has a stable `key` within its list, so a rep's status survives recomputation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.money import CENT

CANDIDATE_LIMIT = 2_000
FEW_RESULTS = 2


@dataclass
class Candidate:
    key: str
    user_id: str | None
    products: list[str]
    amount: Decimal | None
    location_code: str
    occurred_at: datetime
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tuning:
    now: datetime
    days: int = 30
    abandon_hours: int = 24
    min_visits: int = 2
    min_views: int = 3

    @property
    def since(self) -> datetime:
        return self.now - timedelta(days=self.days)


_FOLLOWUPS = f"""
SELECT coalesce(order_id, encode(event_key, 'hex')) AS key, min(user_id) AS user_id,
       max(occurred_at) AS at, coalesce(sum(revenue), 0) AS amount, min(currency) AS currency,
       array_agg(DISTINCT product_id) FILTER (WHERE product_id IS NOT NULL) AS products,
       max(coalesce(location_code, '')) AS location
FROM tracking_events
WHERE tenant_id = :tid AND type = 'purchase' AND occurred_at >= :since AND occurred_at <= :now
GROUP BY 1
ORDER BY at DESC, key
LIMIT {CANDIDATE_LIMIT}
"""  # noqa: S608 - module constants only

_ABANDONED = f"""
WITH carts AS (
    SELECT user_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at,
           array_agg(DISTINCT product_id) FILTER (WHERE product_id IS NOT NULL) AS products,
           sum(coalesce(price, 0) * coalesce(quantity, 1)) AS value, min(currency) AS currency,
           (array_agg(coalesce(location_code, '') ORDER BY occurred_at DESC))[1] AS location
    FROM tracking_events
    WHERE tenant_id = :tid AND type = 'add_to_cart' AND occurred_at >= :since
      AND occurred_at <= :cutoff
    GROUP BY user_id
)
SELECT c.* FROM carts c
WHERE NOT EXISTS (
    SELECT 1 FROM tracking_events p
    WHERE p.tenant_id = :tid AND p.user_id = c.user_id AND p.type = 'purchase'
      AND p.occurred_at >= c.first_at
)
ORDER BY value DESC, user_id
LIMIT {CANDIDATE_LIMIT}
"""  # noqa: S608 - module constants only

_SEARCH_GAPS = f"""
WITH searches AS (
    SELECT lower(btrim(s.query)) AS q, s.user_id, s.results_count,
           coalesce(s.location_code, '') AS location, s.occurred_at,
           EXISTS (
               SELECT 1 FROM tracking_events v
               WHERE v.tenant_id = :tid AND v.user_id = s.user_id AND v.type = 'view_item'
                 AND v.occurred_at > s.occurred_at
                 AND v.occurred_at <= s.occurred_at + interval '30 minutes'
           ) AS viewed
    FROM tracking_events s
    WHERE s.tenant_id = :tid AND s.type = 'search' AND s.query IS NOT NULL
      AND btrim(s.query) <> '' AND s.occurred_at >= :since AND s.occurred_at <= :now
)
SELECT q, count(*) AS searches, count(DISTINCT user_id) AS users,
       count(*) FILTER (WHERE results_count = 0) AS zero_results,
       count(*) FILTER (WHERE results_count BETWEEN 1 AND {FEW_RESULTS}) AS few_results,
       count(*) FILTER (WHERE viewed) AS led_to_view,
       mode() WITHIN GROUP (ORDER BY location) AS location, max(occurred_at) AS at
FROM searches
GROUP BY q
HAVING count(*) FILTER (WHERE results_count <= {FEW_RESULTS}) > 0
    OR count(*) FILTER (WHERE viewed) = 0
ORDER BY zero_results DESC, searches DESC, q
LIMIT {CANDIDATE_LIMIT}
"""  # noqa: S608 - module constants only

_REPEAT_VISITORS = f"""
WITH visitors AS (
    SELECT user_id,
           count(DISTINCT coalesce(session_id, (occurred_at AT TIME ZONE 'UTC')::date::text))
               AS visits,
           count(*) FILTER (WHERE type = 'view_item') AS views,
           count(*) FILTER (WHERE type = 'add_to_cart') AS carts,
           count(*) FILTER (WHERE type = 'begin_checkout') AS checkouts,
           count(*) FILTER (WHERE type = 'purchase') AS purchases,
           sum(coalesce(price, 0) * coalesce(quantity, 1)) FILTER (WHERE type = 'add_to_cart')
               AS cart_value,
           array_agg(DISTINCT product_id)
               FILTER (WHERE type IN ('view_item', 'add_to_cart') AND product_id IS NOT NULL)
               AS products,
           max(occurred_at) AS at,
           (array_agg(coalesce(location_code, '') ORDER BY occurred_at DESC))[1] AS location
    FROM tracking_events
    WHERE tenant_id = :tid AND occurred_at >= :since AND occurred_at <= :now
    GROUP BY user_id
)
SELECT *, checkouts * 5 + carts * 3 + views + visits * 2 AS score
FROM visitors
WHERE visits >= :min_visits AND purchases = 0
  AND (views >= :min_views OR carts > 0 OR checkouts > 0)
ORDER BY score DESC, user_id
LIMIT {CANDIDATE_LIMIT}
"""  # noqa: S608 - module constants only


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


async def purchase_followups(
    session: AsyncSession, tenant_id: uuid.UUID, tuning: Tuning
) -> list[Candidate]:
    rows = await session.execute(
        text(_FOLLOWUPS), {"tid": tenant_id, "since": tuning.since, "now": tuning.now}
    )
    return [
        Candidate(
            key=row.key,
            user_id=row.user_id,
            products=sorted(row.products or []),
            amount=_money(row.amount),
            location_code=row.location,
            occurred_at=row.at,
            reason=f"Bought {len(row.products or [])} product(s) for {_money(row.amount)} "
            f"{row.currency or ''}".rstrip()
            + f" on {row.at:%Y-%m-%d}: thank them and offer help or accessories",
            details={"order_id": row.key, "currency": row.currency},
        )
        for row in rows
    ]


async def cart_abandonment(
    session: AsyncSession, tenant_id: uuid.UUID, tuning: Tuning
) -> list[Candidate]:
    cutoff = tuning.now - timedelta(hours=tuning.abandon_hours)
    rows = await session.execute(
        text(_ABANDONED), {"tid": tenant_id, "since": tuning.since, "cutoff": cutoff}
    )
    return [
        Candidate(
            key=f"{row.user_id}:{row.last_at:%Y-%m-%d}",
            user_id=row.user_id,
            products=sorted(row.products or []),
            amount=_money(row.value),
            location_code=row.location,
            occurred_at=row.last_at,
            reason=f"Left {len(row.products or [])} product(s) worth {_money(row.value)} in the "
            f"cart on {row.last_at:%Y-%m-%d} and has not bought within "
            f"{tuning.abandon_hours} hours",
            details={"first_added_at": row.first_at.isoformat(), "currency": row.currency},
        )
        for row in rows
    ]


def _gap_reason(row: Any) -> str:
    if row.zero_results:
        return f"{row.zero_results} of {row.searches} searches found nothing"
    if row.few_results:
        return f"{row.few_results} of {row.searches} searches found only {FEW_RESULTS} or fewer"
    return f"none of {row.searches} searches led to a product view"


async def search_gaps(
    session: AsyncSession, tenant_id: uuid.UUID, tuning: Tuning
) -> list[Candidate]:
    rows = await session.execute(
        text(_SEARCH_GAPS), {"tid": tenant_id, "since": tuning.since, "now": tuning.now}
    )
    return [
        Candidate(
            key=row.q,
            user_id=None,
            products=[],
            amount=None,
            location_code=row.location,
            occurred_at=row.at,
            reason=f"“{row.q}”: {_gap_reason(row)}",
            details={
                "query": row.q,
                "searches": row.searches,
                "users": row.users,
                "zero_results": row.zero_results,
                "few_results": row.few_results,
                "led_to_view": row.led_to_view,
            },
        )
        for row in rows
    ]


async def repeat_visitors(
    session: AsyncSession, tenant_id: uuid.UUID, tuning: Tuning
) -> list[Candidate]:
    rows = await session.execute(
        text(_REPEAT_VISITORS),
        {
            "tid": tenant_id,
            "since": tuning.since,
            "now": tuning.now,
            "min_visits": tuning.min_visits,
            "min_views": tuning.min_views,
        },
    )
    return [
        Candidate(
            key=row.user_id,
            user_id=row.user_id,
            products=sorted(row.products or [])[:10],
            amount=_money(row.cart_value) if row.cart_value else None,
            location_code=row.location,
            occurred_at=row.at,
            reason=f"{row.visits} visits, {row.views} product views, {row.carts} cart adds, "
            f"{row.checkouts} checkouts and no purchase in {tuning.days} days",
            details={
                "visits": row.visits,
                "views": row.views,
                "carts": row.carts,
                "checkouts": row.checkouts,
                "score": row.score,
            },
        )
        for row in rows
    ]


LISTS = {
    "purchase-followups": purchase_followups,
    "cart-abandonment": cart_abandonment,
    "search-gaps": search_gaps,
    "repeat-visitors": repeat_visitors,
}


async def contacts(session: AsyncSession, tenant_id: uuid.UUID, users: list[str]) -> dict[str, str]:
    """The latest e-mail address a shopper left on an event (e.g. at checkout), if any."""
    if not users:
        return {}
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT ON (user_id) user_id, email
            FROM tracking_events
            WHERE tenant_id = :tid AND user_id = ANY(:users) AND email IS NOT NULL
            ORDER BY user_id, occurred_at DESC
            """
        ),
        {"tid": tenant_id, "users": users},
    )
    return {row.user_id: row.email for row in rows if row.email}
