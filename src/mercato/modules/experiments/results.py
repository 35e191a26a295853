"""An experiment's per-arm totals, counted in SQL from the tracking event log.

Counting rules (API.md): `users` = distinct users with an impression carrying the
experiment's id and one of its arm names as `variant`, each in the arm of their first
such impression; `impressions` and
`clicks` = those users' impression and click events carrying the experiment's id;
`conversions` = how many of the users made a purchase after their first exposure;
`revenue` = the revenue of those purchases. `clicked` and `bought` are MATERIALIZED: computed
once, whatever the planner believes about a table it has not analyzed yet (inlined, a
nested loop could recompute them once per exposed user). The squares and products are what the
variance of a per-user metric needs (see `statistics`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.modules.experiments.statistics import VariantTotals

TOTALS_SQL = text(
    """
    WITH exposure AS (
        SELECT user_id, variant, occurred_at
        FROM tracking_events
        WHERE tenant_id = :tenant_id AND type = 'impression'
          AND experiment_id = :experiment_id AND variant = ANY(CAST(:arms AS text[]))
    ),
    first_exposure AS (
        SELECT DISTINCT ON (user_id) user_id, variant, occurred_at AS first_seen
        FROM exposure
        ORDER BY user_id, occurred_at
    ),
    exposed AS (
        SELECT f.user_id, f.variant, f.first_seen, count(*) AS impressions
        FROM first_exposure f JOIN exposure e USING (user_id, variant)
        GROUP BY f.user_id, f.variant, f.first_seen
    ),
    clicked AS MATERIALIZED (
        SELECT user_id, count(*) AS clicks
        FROM tracking_events
        WHERE tenant_id = :tenant_id AND type = 'click' AND experiment_id = :experiment_id
        GROUP BY user_id
    ),
    bought AS MATERIALIZED (
        SELECT x.user_id, sum(coalesce(p.revenue, 0)) AS revenue
        FROM exposed x
        JOIN tracking_events p ON p.tenant_id = :tenant_id AND p.type = 'purchase'
            AND p.user_id = x.user_id AND p.occurred_at >= x.first_seen
            AND p.occurred_at <= coalesce(CAST(:until AS timestamptz), 'infinity')
        GROUP BY x.user_id
    ),
    per_user AS (
        SELECT x.variant, x.impressions,
               coalesce(c.clicks, 0) AS clicks,
               coalesce(b.revenue, 0) AS revenue,
               b.user_id IS NOT NULL AS converted
        FROM exposed x
        LEFT JOIN clicked c USING (user_id)
        LEFT JOIN bought b USING (user_id)
    )
    SELECT variant,
           count(*) AS users,
           sum(impressions) AS impressions,
           sum(impressions * impressions) AS impressions_squared,
           sum(clicks) AS clicks,
           sum(clicks * clicks) AS clicks_squared,
           sum(clicks * impressions) AS clicks_times_impressions,
           count(*) FILTER (WHERE converted) AS conversions,
           sum(revenue) AS revenue,
           sum(revenue * revenue) AS revenue_squared
    FROM per_user
    GROUP BY variant
    """
)


@dataclass(frozen=True)
class CountedVariant:
    totals: VariantTotals
    revenue: Decimal


async def count_variants(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    experiment_id: uuid.UUID,
    arms: list[str],
    *,
    until: datetime | None = None,
) -> dict[str, CountedVariant]:
    """Totals per arm name; an arm nobody saw is absent."""
    rows = await session.execute(
        TOTALS_SQL,
        {
            "tenant_id": tenant_id,
            "experiment_id": str(experiment_id),
            "arms": arms,
            "until": until,
        },
    )
    counted: dict[str, CountedVariant] = {}
    for row in rows.mappings():
        revenue = Decimal(row["revenue"] or 0)
        counted[str(row["variant"])] = CountedVariant(
            VariantTotals(
                users=int(row["users"]),
                impressions=int(row["impressions"] or 0),
                impressions_squared=float(row["impressions_squared"] or 0),
                clicks=int(row["clicks"] or 0),
                clicks_squared=float(row["clicks_squared"] or 0),
                clicks_times_impressions=float(row["clicks_times_impressions"] or 0),
                conversions=int(row["conversions"]),
                revenue=float(revenue),
                revenue_squared=float(row["revenue_squared"] or 0),
            ),
            revenue,
        )
    return counted
