"""profile push: the business profile's push to Google Business Profile

`gbp_profile_sync` (one row per tenant): the Business Profile location the profile is
pushed to, the per-field baseline (what Google and Mercato last agreed on, in Mercato's
shape), the fields in conflict with both values, and the last push's outcome.

Revision ID: 0230_profile_push
Revises: 0200_observability
Create Date: 2026-12-23 09:20:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mercato.kernel.rls import enable_tenant_rls

revision: str = "0230_profile_push"
down_revision: str | Sequence[str] | None = "0260_experiment_arms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gbp_profile_sync",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("gbp_location_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("baseline", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("conflicts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pushed_fields", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "gbp_location_id"],
            ["gbp_locations.tenant_id", "gbp_locations.gbp_location_id"],
            name=op.f("fk_gbp_profile_sync_tenant_id_gbp_location_id_gbp_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_gbp_profile_sync")),
    )
    enable_tenant_rls("gbp_profile_sync")


def downgrade() -> None:
    op.drop_table("gbp_profile_sync")
