"""kernel: extensions, the application role, the job queue, kernel tables

Revision ID: 0001_kernel
Revises:
Create Date: 2026-11-23 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager

from mercato.kernel.rls import app_role, grant_app

revision: str = "0001_kernel"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create_app_role() -> None:
    role = app_role()
    literal = role.strip('"').replace("'", "''")
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{literal}') THEN
                CREATE ROLE {role} NOLOGIN;
            END IF;
            -- The owner switches to the application role on each app connection.
            BEGIN
                EXECUTE 'GRANT {role} TO ' || quote_ident(current_user);
            EXCEPTION WHEN others THEN
                RAISE NOTICE 'could not grant {literal} to %: %', current_user, SQLERRM;
            END;
        END
        $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")


def _install_job_queue() -> None:
    """procrastinate's own schema, from the installed package (version 3.x)."""
    raw = op.get_bind().connection.dbapi_connection
    with raw.cursor() as cursor:
        cursor.execute(SchemaManager.get_schema())
    role = app_role()
    # Business transactions enqueue jobs on the app connection (see kernel.jobs.defer).
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    op.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}")


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    _create_app_role()
    _install_job_queue()

    op.create_table(
        "job_failure",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("task_name", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "failed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failure")),
    )
    op.create_index(op.f("ix_job_failure_job_id"), "job_failure", ["job_id"])
    grant_app("job_failure", ("SELECT", "INSERT"))

    op.create_table(
        "demo_seed_step",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_demo_seed_step")),
    )


def downgrade() -> None:
    op.drop_table("demo_seed_step")
    op.drop_table("job_failure")
