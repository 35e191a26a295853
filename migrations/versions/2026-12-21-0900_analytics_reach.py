"""analytics reach: distinct visitors by previous day seen, and lookups of a visitor's days

`analytics_reach_day` lets an all-locations overview or series count distinct sessions,
users, funnel steps and orders from a few thousand rows instead of one row per session of
the range; the three indexes find a session's, a user's and an order's earlier days (to
fill `since`, and to check the live tail of raw events against the rollups). Existing
rollups are counted into the new table here, tenant by tenant (row-level security scopes
every statement to `app.tenant_id`, the migration role included).

Revision ID: 0120_analytics_reach
Revises: 0110_security_review
Create Date: 2026-12-21 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.kernel.rls import enable_tenant_rls

revision: str = "0120_analytics_reach"
down_revision: str | Sequence[str] | None = "0110_security_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `rollup._RECOUNT_REACH` as of this revision, from the first day on.
BACKFILL = """
INSERT INTO analytics_reach_day (tenant_id, day, kind, since, visitors)
SELECT :tid, day, kind, since, count(*)
FROM (
    SELECT a.day, a.kind,
           coalesce(lag(a.day) OVER (PARTITION BY a.kind, a.visitor ORDER BY a.day),
                    '-infinity'::date) AS since
    FROM (
        SELECT s.day, k.kind, s.session_key AS visitor
        FROM (
            SELECT day, session_key, bit_or(steps) AS steps FROM analytics_session_day
            WHERE tenant_id = :tid GROUP BY 1, 2
        ) s
        JOIN (VALUES ('session', 0), ('viewing', 1), ('adding', 2), ('checking_out', 4),
                     ('purchasing', 8)) AS k(kind, bit) ON s.steps & k.bit = k.bit
        UNION ALL
        SELECT DISTINCT day, 'user', user_id FROM analytics_session_day WHERE tenant_id = :tid
        UNION ALL
        SELECT DISTINCT day, 'order', order_key FROM analytics_order_day WHERE tenant_id = :tid
    ) a
) seen
GROUP BY 2, 3, 4
"""


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "analytics_reach_day",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("visitors", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "kind", "since", name=op.f("pk_analytics_reach_day")
        ),
    )
    op.create_index(
        "ix_analytics_order_day_order",
        "analytics_order_day",
        ["tenant_id", "order_key", "day"],
        unique=False,
    )
    op.create_index(
        "ix_analytics_session_day_session",
        "analytics_session_day",
        ["tenant_id", "session_key", "day"],
        unique=False,
    )
    op.create_index(
        "ix_analytics_session_day_user",
        "analytics_session_day",
        ["tenant_id", "user_id", "day"],
        unique=False,
    )
    enable_tenant_rls("analytics_reach_day")
    bind = op.get_bind()
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenant")).all():
        bind.execute(
            sa.text("SELECT set_config('app.tenant_id', :tid, true)"), {"tid": str(tenant_id)}
        )
        bind.execute(sa.text(BACKFILL), {"tid": tenant_id})
    bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def downgrade() -> None:
    op.drop_index("ix_analytics_session_day_user", table_name="analytics_session_day")
    op.drop_index("ix_analytics_session_day_session", table_name="analytics_session_day")
    op.drop_index("ix_analytics_order_day_order", table_name="analytics_order_day")
    op.drop_table("analytics_reach_day")
