"""feed sync: Merchant Center live sync, item statuses and local inventories

- `feed_sync_pending`: products changed since the last live sync took them;
- `feed_sync_schedule`: one row per tenant while a debounced live sync waits;
- `merchant_item`: per account and offer id, the hash of what Mercato last pushed and
  Google's status with its item-level issues;
- `merchant_local_inventory`: per account, offer id and store code, what was last sent.

Revision ID: 0220_feed_sync
Revises: 0200_observability
Create Date: 2026-12-23 09:10:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mercato.kernel.rls import enable_tenant_rls

revision: str = "0220_feed_sync"
down_revision: str | Sequence[str] | None = "0230_profile_push"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("feed_sync_pending", "feed_sync_schedule", "merchant_item", "merchant_local_inventory")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenant.id"], name=op.f(f"fk_{table}_tenant_id_tenant"), ondelete="CASCADE"
    )


def _link_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "account_id"],
        ["google_merchant_links.tenant_id", "google_merchant_links.account_id"],
        name=op.f(f"fk_{table}_tenant_id_account_id_google_merchant_links"),
        ondelete="CASCADE",
    )


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "feed_sync_pending",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        _tenant_fk("feed_sync_pending"),
        sa.PrimaryKeyConstraint("tenant_id", "product_id", name=op.f("pk_feed_sync_pending")),
    )
    op.create_table(
        "feed_sync_schedule",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("feed_sync_schedule"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_feed_sync_schedule")),
    )
    op.create_table(
        "merchant_item",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("offer_id", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("push_error", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("issues", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        _link_fk("merchant_item"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "account_id", "offer_id", name=op.f("pk_merchant_item")
        ),
    )
    op.create_index(
        "ix_merchant_item_status",
        "merchant_item",
        ["tenant_id", "status", "offer_id"],
        unique=False,
    )
    op.create_table(
        "merchant_local_inventory",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("offer_id", sa.Text(), nullable=False),
        sa.Column("store_code", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=False),
        _link_fk("merchant_local_inventory"),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "account_id",
            "offer_id",
            "store_code",
            name=op.f("pk_merchant_local_inventory"),
        ),
    )
    op.create_index(
        "ix_merchant_local_inventory_store",
        "merchant_local_inventory",
        ["tenant_id", "store_code"],
        unique=False,
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
