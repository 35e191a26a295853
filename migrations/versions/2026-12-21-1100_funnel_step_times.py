"""funnel step times: the first time of each funnel step on every session rollup row

The closed funnel (a step counts the sessions that did every previous step, in order)
needs the order of a session's steps across its rows (days, locations, user ids) and the
raw tail, so each `analytics_session_day` row keeps the first time of each step. Rows
already rolled up get their times from the events behind the watermark here, tenant by
tenant (row-level security scopes every statement to `app.tenant_id`, the migration role
included); a step is only filled where the row's `steps` has it, so a late event that the
rollups have not taken in yet stays out until its day is rebuilt.

Revision ID: 0150_funnel_step_times
Revises: 0140_published_reads
Create Date: 2026-12-21 11:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0150_funnel_step_times"
down_revision: str | Sequence[str] | None = "0140_published_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "first_view_at": ("view_item", 1),
    "first_cart_at": ("add_to_cart", 2),
    "first_checkout_at": ("begin_checkout", 4),
    "first_purchase_at": ("purchase", 8),
}

# `rollup._ROLL_SESSIONS`'s grouping as of this revision, over the rolled-up events.
BACKFILL = f"""
UPDATE analytics_session_day t SET
    {", ".join(f"{c} = CASE WHEN t.steps & {bit} > 0 THEN f.{c} END" for c, (_, bit) in COLUMNS.items())}
FROM (
    SELECT (e.occurred_at AT TIME ZONE r.timezone)::date AS day,
           coalesce(e.location_code, '') AS location_code,
           coalesce(e.session_id,
                    'u:' || e.user_id || ':' || (e.occurred_at AT TIME ZONE r.timezone)::date)
               AS session_key,
           e.user_id,
           {", ".join(f"min(e.occurred_at) FILTER (WHERE e.type = '{t}') AS {c}" for c, (t, _) in COLUMNS.items())}
    FROM tracking_events e
    JOIN analytics_rollup_state r ON r.tenant_id = e.tenant_id
    WHERE e.tenant_id = :tid AND e.occurred_at < r.rolled_until
      AND e.type IN ('view_item', 'add_to_cart', 'begin_checkout', 'purchase')
    GROUP BY 1, 2, 3, 4
) f
WHERE t.tenant_id = :tid AND t.day = f.day AND t.location_code = f.location_code
  AND t.session_key = f.session_key AND t.user_id = f.user_id AND t.steps > 0
"""  # noqa: S608, E501 - only this file's constants are interpolated


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    for column in COLUMNS:
        op.add_column(
            "analytics_session_day",
            sa.Column(column, sa.DateTime(timezone=True), nullable=True),
        )
    bind = op.get_bind()
    for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenant")).all():
        bind.execute(
            sa.text("SELECT set_config('app.tenant_id', :tid, true)"), {"tid": str(tenant_id)}
        )
        bind.execute(sa.text(BACKFILL), {"tid": tenant_id})
    bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("analytics_session_day", column)
