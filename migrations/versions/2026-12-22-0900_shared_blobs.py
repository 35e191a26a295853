"""shared blobs: files one process writes and another reads, in PostgreSQL

Fitted recommendation models, GA4 export uploads and dashboard product-file uploads were
files under the writing machine's DATA_DIR, so an API process or worker on another machine
could not read them. They now live in `shared_blob` (one row per stored file, tenant
scoped) and, with the PostgreSQL store, `shared_blob_chunk` (the bytes, 1 MiB a row,
streamed in and out). Chunks are stored uncompressed (`STORAGE EXTERNAL`): models and
gzip exports are compressed already, so PostgreSQL's compression would only cost CPU.

Model versions indexed before this revision point at files on one machine's disk; the
next periodic fit refits such tenants (see `recommendations.fitting`), so nothing is
copied here. `product_import.rows_total` keeps an upload's row count, which the
dashboard's progress used to count from the uploaded file.

Revision ID: 0160_shared_blobs
Revises: 0150_funnel_step_times
Create Date: 2026-12-22 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.kernel.rls import enable_tenant_rls

revision: str = "0160_shared_blobs"
down_revision: str | Sequence[str] | None = "0150_funnel_step_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.create_table(
        "shared_blob",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("ready", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("store", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_shared_blob")),
    )
    op.create_index(
        "ux_shared_blob_key",
        "shared_blob",
        ["tenant_id", "key"],
        unique=True,
        postgresql_where=sa.text("ready"),
    )
    op.create_table(
        "shared_blob_chunk",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("blob_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "blob_id"],
            ["shared_blob.tenant_id", "shared_blob.id"],
            name=op.f("fk_shared_blob_chunk_tenant_id_blob_id_shared_blob"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "blob_id", "seq", name=op.f("pk_shared_blob_chunk")),
    )
    op.execute("ALTER TABLE shared_blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL")
    enable_tenant_rls("shared_blob")
    enable_tenant_rls("shared_blob_chunk")
    # An upload's row count, so a dashboard's progress never reads the uploaded file.
    op.add_column("product_import", sa.Column("rows_total", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("product_import", "rows_total")
    op.drop_table("shared_blob_chunk")
    op.drop_index("ux_shared_blob_key", table_name="shared_blob")
    op.drop_table("shared_blob")
