"""fulfilment and returns: shipments with their lines, returns (RMA), pending refunds

A shipment line names the order allocation (product, location sold at) it consumed, so
the rest to ship per allocation is a sum. A refund row is now `pending` until its
provider took it (existing rows were all taken: `succeeded`), at most one per return
(unique `return_id`). The ledger learns the `transfer` kind: a sale moved to the location
a parcel left from.

Revision ID: 0190_fulfilment_returns
Revises: 0180_addresses_discounts
Create Date: 2026-12-21 15:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.kernel.rls import enable_tenant_rls

KINDS = "'receipt','adjustment','reservation','release','sale','return'"

revision: str = "0190_fulfilment_returns"
down_revision: str | Sequence[str] | None = "0180_addresses_discounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "order_return",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refund_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("refund_amount >= 0", name=op.f("ck_order_return_refund_not_negative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["sales_order.tenant_id", "sales_order.id"],
            name=op.f("fk_order_return_tenant_id_order_id_sales_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_order_return")),
    )
    op.create_index(
        "ix_order_return_order", "order_return", ["tenant_id", "order_id", "id"], unique=False
    )
    op.create_table(
        "shipment",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("location_code", sa.Text(), nullable=False),
        sa.Column("carrier", sa.Text(), nullable=True),
        sa.Column("tracking_number", sa.Text(), nullable=True),
        sa.Column("tracking_url", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column(
            "shipped_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('shipped', 'delivered')", name=op.f("ck_shipment_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["sales_order.tenant_id", "sales_order.id"],
            name=op.f("fk_shipment_tenant_id_order_id_sales_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_shipment")),
    )
    op.create_index("ix_shipment_order", "shipment", ["tenant_id", "order_id", "id"], unique=False)
    op.create_table(
        "return_line",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("return_id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("restock", sa.Boolean(), nullable=False),
        sa.Column("location_code", sa.Text(), nullable=True),
        sa.Column("refund_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint(
            "NOT restock OR location_code IS NOT NULL",
            name=op.f("ck_return_line_restock_has_location"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "return_id"],
            ["order_return.tenant_id", "order_return.id"],
            name=op.f("fk_return_line_tenant_id_return_id_order_return"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "return_id", "product_id", name=op.f("pk_return_line")
        ),
    )
    op.create_index(
        "ix_return_line_order", "return_line", ["tenant_id", "order_id", "product_id"], unique=False
    )
    op.create_table(
        "shipment_line",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("shipment_id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("allocation_location", sa.Text(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_shipment_line_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["shipment.tenant_id", "shipment.id"],
            name=op.f("fk_shipment_line_tenant_id_shipment_id_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "shipment_id",
            "product_id",
            "allocation_location",
            name=op.f("pk_shipment_line"),
        ),
    )
    op.create_index(
        "ix_shipment_line_order",
        "shipment_line",
        ["tenant_id", "order_id", "product_id"],
        unique=False,
    )
    op.add_column(
        "refund", sa.Column("status", sa.Text(), server_default="succeeded", nullable=False)
    )
    op.add_column("refund", sa.Column("return_id", sa.UUID(), nullable=True))
    op.add_column("refund", sa.Column("error", sa.Text(), nullable=True))
    op.add_column("refund", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "ix_refund_pending",
        "refund",
        ["tenant_id", "id"],
        unique=False,
        postgresql_where="status = 'pending'",
    )
    op.create_unique_constraint(
        op.f("uq_refund_tenant_id_return_id"), "refund", ["tenant_id", "return_id"]
    )
    op.create_check_constraint(
        op.f("ck_refund_status_known"), "refund", "status IN ('pending', 'succeeded')"
    )
    for table in ("shipment", "shipment_line", "order_return", "return_line"):
        enable_tenant_rls(table)
    op.drop_constraint(op.f("ck_stock_movement_known_kind"), "stock_movement", type_="check")
    op.create_check_constraint(
        op.f("ck_stock_movement_known_kind"), "stock_movement", f"kind IN ({KINDS},'transfer')"
    )


def downgrade() -> None:
    op.execute("UPDATE stock_movement SET kind = 'adjustment' WHERE kind = 'transfer'")
    op.drop_constraint(op.f("ck_stock_movement_known_kind"), "stock_movement", type_="check")
    op.create_check_constraint(
        op.f("ck_stock_movement_known_kind"), "stock_movement", f"kind IN ({KINDS})"
    )
    op.drop_constraint(op.f("ck_refund_status_known"), "refund", type_="check")
    op.drop_constraint(op.f("uq_refund_tenant_id_return_id"), "refund", type_="unique")
    op.drop_index("ix_refund_pending", table_name="refund", postgresql_where="status = 'pending'")
    op.drop_column("refund", "attempts")
    op.drop_column("refund", "error")
    op.drop_column("refund", "return_id")
    op.drop_column("refund", "status")
    op.drop_index("ix_shipment_line_order", table_name="shipment_line")
    op.drop_table("shipment_line")
    op.drop_index("ix_return_line_order", table_name="return_line")
    op.drop_table("return_line")
    op.drop_index("ix_shipment_order", table_name="shipment")
    op.drop_table("shipment")
    op.drop_index("ix_order_return_order", table_name="order_return")
    op.drop_table("order_return")
