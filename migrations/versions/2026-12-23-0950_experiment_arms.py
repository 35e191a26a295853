"""experiment arms: A/B/n designs and guardrail metrics on `experiment`

`arms` holds the design, `[{"name", "strategy", "weight"}, ...]` (2 to 6, the first is
control); `guardrails` the metrics no arm may significantly lower. Existing experiments
get the two arms their columns describe, `control` weighted `traffic_split` and `variant`
the rest, so their shoppers keep their variant (see `experiments.assignment`).

Revision ID: 0260_experiment_arms
Revises: 0200_observability
Create Date: 2026-12-23 09:50:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0260_experiment_arms"
down_revision: str | Sequence[str] | None = "0200_observability"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("experiment", sa.Column("arms", postgresql.JSONB(), nullable=True))
    op.add_column(
        "experiment",
        sa.Column("guardrails", postgresql.JSONB(), server_default="[]", nullable=False),
    )
    # The owner migrates: row-level security (FORCE) hides rows from a query without a
    # tenant, so the backfill runs tenant by tenant under each tenant's setting.
    op.execute(
        """
        DO $$
        DECLARE
            v_tenant uuid;
        BEGIN
            FOR v_tenant IN SELECT t.id FROM tenant t LOOP
                PERFORM set_config('app.tenant_id', v_tenant::text, true);
                UPDATE experiment e
                   SET arms = jsonb_build_array(
                       jsonb_build_object('name', 'control', 'strategy', e.control_strategy,
                                          'weight', e.traffic_split),
                       jsonb_build_object('name', 'variant', 'strategy', e.variant_strategy,
                                          'weight', 100 - e.traffic_split))
                 WHERE e.tenant_id = v_tenant AND e.arms IS NULL;
            END LOOP;
            PERFORM set_config('app.tenant_id', '', true);
        END
        $$
        """
    )
    op.alter_column("experiment", "arms", nullable=False)
    op.create_check_constraint(
        op.f("ck_experiment_arms_count"),
        "experiment",
        "jsonb_typeof(arms) = 'array' AND jsonb_array_length(arms) BETWEEN 2 AND 6",
    )
    op.create_check_constraint(
        op.f("ck_experiment_guardrails_list"), "experiment", "jsonb_typeof(guardrails) = 'array'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_experiment_guardrails_list"), "experiment", type_="check")
    op.drop_constraint(op.f("ck_experiment_arms_count"), "experiment", type_="check")
    op.drop_column("experiment", "guardrails")
    op.drop_column("experiment", "arms")
