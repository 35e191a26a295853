"""addresses and discounts: shipping/billing addresses on carts and orders, discount codes

Carts keep the shopper's addresses and applied code until checkout copies them onto the
order; an order's addresses and discount never change afterwards (a trigger refuses it,
so no later code path can rewrite what was shipped and billed). `order_item.discount` is
each row's share of the order's discount, so returns can refund what was charged.
`discount_customer_use` counts a code's uses per customer for the per-customer limit.

Revision ID: 0180_addresses_discounts
Revises: 0170_citus_triggers
Create Date: 2026-12-21 14:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mercato.kernel.rls import enable_tenant_rls

revision: str = "0180_addresses_discounts"
down_revision: str | Sequence[str] | None = "0170_citus_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMMUTABLE_FUNCTION = """
CREATE FUNCTION sales_order_terms_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.shipping_address IS DISTINCT FROM OLD.shipping_address
       OR NEW.billing_address IS DISTINCT FROM OLD.billing_address
       OR NEW.discount_code IS DISTINCT FROM OLD.discount_code
       OR NEW.discount_total IS DISTINCT FROM OLD.discount_total THEN
        RAISE EXCEPTION 'an order''s addresses and discount are fixed at checkout'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$
"""
IMMUTABLE_TRIGGER = (
    "CREATE TRIGGER sales_order_terms_immutable BEFORE UPDATE OF shipping_address, "
    "billing_address, discount_code, discount_total ON sales_order FOR EACH ROW "
    "EXECUTE FUNCTION sales_order_terms_immutable()"
)


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "discount",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("min_order", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("times_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('percentage', 'fixed')", name=op.f("ck_discount_kind_known")),
        sa.CheckConstraint(
            "value > 0 AND (kind = 'fixed' OR value <= 100)",
            name=op.f("ck_discount_value_in_range"),
        ),
        sa.CheckConstraint(
            "kind = 'percentage' OR currency IS NOT NULL",
            name=op.f("ck_discount_fixed_has_currency"),
        ),
        sa.CheckConstraint(
            "times_used >= 0 AND (usage_limit IS NULL OR times_used <= usage_limit)",
            name=op.f("ck_discount_within_usage_limit"),
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR starts_at < ends_at",
            name=op.f("ck_discount_window"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_discount_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "code", name=op.f("pk_discount")),
    )
    op.create_table(
        "discount_customer_use",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("customer_key", sa.Text(), nullable=False),
        sa.Column("times_used", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "times_used >= 0", name=op.f("ck_discount_customer_use_times_used_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "code"],
            ["discount.tenant_id", "discount.code"],
            name=op.f("fk_discount_customer_use_tenant_id_discount"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "code", "customer_key", name=op.f("pk_discount_customer_use")
        ),
    )
    enable_tenant_rls("discount")
    enable_tenant_rls("discount_customer_use")
    address = postgresql.JSONB(astext_type=sa.Text())
    for table in ("cart", "sales_order"):
        op.add_column(table, sa.Column("shipping_address", address, nullable=True))
        op.add_column(table, sa.Column("billing_address", address, nullable=True))
        op.add_column(table, sa.Column("discount_code", sa.Text(), nullable=True))
    op.add_column(
        "sales_order",
        sa.Column(
            "discount_total", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False
        ),
    )
    op.add_column(
        "order_item",
        sa.Column(
            "discount", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False
        ),
    )
    op.execute(IMMUTABLE_FUNCTION)
    op.execute(IMMUTABLE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER sales_order_terms_immutable ON sales_order")
    op.execute("DROP FUNCTION sales_order_terms_immutable()")
    op.drop_column("order_item", "discount")
    op.drop_column("sales_order", "discount_total")
    for table in ("sales_order", "cart"):
        op.drop_column(table, "discount_code")
        op.drop_column(table, "billing_address")
        op.drop_column(table, "shipping_address")
    op.drop_table("discount_customer_use")
    op.drop_table("discount")
