"""operations: feedback, content pages, notifications, and the operator's SQL functions

The operator path across tenants (ADR 0003): SECURITY DEFINER functions owned by the
migrating role, each visiting one tenant at a time with `app.tenant_id` set, so they work
under forced row-level security whether or not the owner is a superuser. The application
role may only EXECUTE them; PUBLIC may not. `platform_source_*` read tables of modules
that may not exist yet and answer NULL (0 for deletions) until they do.

Revision ID: 0030_operations
Revises: 0020_tracking
Create Date: 2026-11-23 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mercato.kernel.rls import app_role, enable_tenant_rls, grant_app

revision: str = "0030_operations"
down_revision: str | Sequence[str] | None = "0020_tracking"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Operator functions run as their owner (SECURITY DEFINER) with a pinned search_path. One
# that visits tenants sets app.tenant_id itself; its `SET app.tenant_id = ''` clause
# restores the caller's value when it returns.

HELPERS = [
    """
    CREATE FUNCTION platform_tenant_tables()
    RETURNS TABLE (table_name text, delete_rank integer)
    LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
        -- Every table in `public` with a tenant_id column, found at run time so tables of
        -- later modules are covered; partitions are reached through their parent.
        -- Referencing tables rank higher than the tables they reference: delete by rank.
        WITH RECURSIVE tenant_table AS (
            SELECT c.oid
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a
              ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ),
        reference AS (
            SELECT DISTINCT con.conrelid AS child, con.confrelid AS parent
            FROM pg_constraint con
            WHERE con.contype = 'f' AND con.conrelid <> con.confrelid
              AND con.conrelid IN (SELECT oid FROM tenant_table)
              AND con.confrelid IN (SELECT oid FROM tenant_table)
        ),
        depth (oid, level) AS (
            SELECT oid, 0 FROM tenant_table
            UNION ALL
            SELECT r.child, d.level + 1
            FROM depth d JOIN reference r ON r.parent = d.oid
            WHERE d.level < 32
        )
        SELECT c.relname::text, max(d.level)::integer
        FROM depth d JOIN pg_class c ON c.oid = d.oid
        GROUP BY c.relname
        ORDER BY max(d.level) DESC, c.relname
    $$
    """,
    """
    CREATE FUNCTION platform_table_has(p_table text, p_columns text[])
    RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
        SELECT to_regclass('public.' || quote_ident(p_table)) IS NOT NULL
           AND (SELECT count(*) FROM pg_attribute a
                WHERE a.attrelid = to_regclass('public.' || quote_ident(p_table))
                  AND a.attname = ANY (p_columns) AND NOT a.attisdropped
               ) = cardinality(p_columns)
    $$
    """,
    """
    CREATE FUNCTION platform_require_operator()
    RETURNS void
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
    BEGIN
        -- app.user_id is set by the application after verifying the caller's token.
        IF NOT EXISTS (
            SELECT 1 FROM staff_user
            WHERE id = NULLIF(current_setting('app.user_id', true), '')::uuid
              AND is_platform_admin
        ) THEN
            RAISE EXCEPTION 'only platform operators may read across tenants'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END
    $$
    """,
]

# Metric sources owned by other modules. Each reads the named table when it exists with
# the named columns and answers NULL otherwise; the owning module may replace the body
# (CREATE OR REPLACE FUNCTION, same signature) when its schema differs.
SOURCES = [
    """
    CREATE FUNCTION platform_source_events(p_tenant uuid, p_since timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
    DECLARE
        v_count bigint;
    BEGIN
        IF NOT platform_table_has('event', ARRAY['tenant_id', 'occurred_at']) THEN
            RETURN NULL;
        END IF;
        EXECUTE 'SELECT count(*) FROM event WHERE tenant_id = $1 AND occurred_at >= $2'
            INTO v_count USING p_tenant, p_since;
        RETURN v_count;
    END
    $$
    """,
    """
    CREATE FUNCTION platform_source_products(p_tenant uuid)
    RETURNS bigint
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
    DECLARE
        v_count bigint;
    BEGIN
        IF NOT platform_table_has('product', ARRAY['tenant_id']) THEN
            RETURN NULL;
        END IF;
        EXECUTE 'SELECT count(*) FROM product WHERE tenant_id = $1' INTO v_count USING p_tenant;
        RETURN v_count;
    END
    $$
    """,
    """
    CREATE FUNCTION platform_source_feed_pushes(
        p_tenant uuid, p_since timestamptz, OUT succeeded bigint, OUT failed bigint
    )
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
    BEGIN
        IF NOT platform_table_has('feed_job', ARRAY['tenant_id', 'status', 'created_at']) THEN
            RETURN;
        END IF;
        EXECUTE 'SELECT count(*) FILTER (WHERE status = ''success''), '
                '       count(*) FILTER (WHERE status = ''failed'') '
                'FROM feed_job WHERE tenant_id = $1 AND created_at >= $2'
            INTO succeeded, failed USING p_tenant, p_since;
    END
    $$
    """,
    """
    CREATE FUNCTION platform_source_category_mapping(
        p_tenant uuid, OUT mapped bigint, OUT total bigint
    )
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
    BEGIN
        IF NOT platform_table_has('category', ARRAY['tenant_id', 'google_category_id']) THEN
            RETURN;
        END IF;
        EXECUTE 'SELECT count(google_category_id), count(*) FROM category WHERE tenant_id = $1'
            INTO mapped, total USING p_tenant;
    END
    $$
    """,
    """
    CREATE FUNCTION platform_source_expire_events(p_tenant uuid, p_before timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
    DECLARE
        v_count bigint;
    BEGIN
        IF NOT platform_table_has('event', ARRAY['tenant_id', 'occurred_at']) THEN
            RETURN 0;
        END IF;
        EXECUTE 'DELETE FROM event WHERE tenant_id = $1 AND occurred_at < $2'
            USING p_tenant, p_before;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        RETURN v_count;
    END
    $$
    """,
]

OPERATOR_FUNCTIONS = [
    """
    CREATE FUNCTION platform_tenant_usage(p_tenants uuid[], p_month_start timestamptz)
    RETURNS TABLE (
        tenant_id uuid, staff bigint, products bigint, events_month bigint,
        storage_bytes bigint
    )
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    SET app.tenant_id = '' AS $$
    #variable_conflict use_column
    DECLARE
        v_tenant uuid;
        v_table text;
        v_bytes bigint;
    BEGIN
        PERFORM platform_require_operator();
        FOREACH v_tenant IN ARRAY p_tenants LOOP
            PERFORM set_config('app.tenant_id', v_tenant::text, true);
            tenant_id := v_tenant;
            SELECT count(*) INTO staff FROM membership m WHERE m.tenant_id = v_tenant;
            products := coalesce(platform_source_products(v_tenant), 0);
            events_month := coalesce(platform_source_events(v_tenant, p_month_start), 0);
            -- Bytes of the tenant's rows as stored (compressed values count compressed).
            storage_bytes := 0;
            FOR v_table IN SELECT t.table_name FROM platform_tenant_tables() t LOOP
                EXECUTE format(
                    'SELECT coalesce(sum(pg_column_size(x.*)), 0) FROM %I x '
                    'WHERE x.tenant_id = $1', v_table
                ) INTO v_bytes USING v_tenant;
                storage_bytes := storage_bytes + v_bytes;
            END LOOP;
            RETURN NEXT;
        END LOOP;
    END
    $$
    """,
    """
    CREATE FUNCTION platform_pilot_kpis(p_since timestamptz, p_week_since timestamptz)
    RETURNS TABLE (
        tenants_total bigint, tenants_active bigint, tenants_suspended bigint,
        active_tenants bigint, weekly_active_staff bigint,
        feedback_count bigint, feedback_satisfied bigint,
        feed_pushes_succeeded bigint, feed_pushes_failed bigint,
        categories_mapped bigint, categories_total bigint, events_ingested bigint
    )
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    SET app.tenant_id = '' AS $$
    DECLARE
        v_tenant uuid;
        v_staff uuid[] := '{}';
        v_tenant_staff uuid[];
        v_events bigint;
        v_pushes record;
        v_mapping record;
        v_feedback record;
    BEGIN
        PERFORM platform_require_operator();
        SELECT count(*) FILTER (WHERE t.status <> 'deleted'),
               count(*) FILTER (WHERE t.status = 'active'),
               count(*) FILTER (WHERE t.status = 'suspended')
          INTO tenants_total, tenants_active, tenants_suspended
          FROM tenant t;
        active_tenants := 0;
        feedback_count := 0;
        feedback_satisfied := 0;
        FOR v_tenant IN SELECT t.id FROM tenant t WHERE t.status <> 'deleted' LOOP
            PERFORM set_config('app.tenant_id', v_tenant::text, true);
            v_tenant_staff := ARRAY(
                SELECT m.user_id FROM membership m
                WHERE m.tenant_id = v_tenant AND EXISTS (
                    SELECT 1 FROM refresh_token r
                    WHERE r.user_id = m.user_id AND r.created_at >= p_week_since
                )
            );
            v_staff := v_staff || v_tenant_staff;
            v_events := platform_source_events(v_tenant, p_since);
            IF v_events IS NOT NULL THEN
                events_ingested := coalesce(events_ingested, 0) + v_events;
            END IF;
            IF (cardinality(v_tenant_staff) > 0 OR coalesce(v_events, 0) > 0)
               AND EXISTS (SELECT 1 FROM tenant t WHERE t.id = v_tenant AND t.status = 'active')
            THEN
                active_tenants := active_tenants + 1;
            END IF;
            SELECT count(*) AS total, count(*) FILTER (WHERE f.rating >= 4) AS satisfied
              INTO v_feedback
              FROM feedback f WHERE f.tenant_id = v_tenant AND f.created_at >= p_since;
            feedback_count := feedback_count + v_feedback.total;
            feedback_satisfied := feedback_satisfied + v_feedback.satisfied;
            SELECT * INTO v_pushes FROM platform_source_feed_pushes(v_tenant, p_since);
            IF v_pushes.succeeded IS NOT NULL THEN
                feed_pushes_succeeded := coalesce(feed_pushes_succeeded, 0) + v_pushes.succeeded;
                feed_pushes_failed := coalesce(feed_pushes_failed, 0) + v_pushes.failed;
            END IF;
            SELECT * INTO v_mapping FROM platform_source_category_mapping(v_tenant);
            IF v_mapping.total IS NOT NULL THEN
                categories_mapped := coalesce(categories_mapped, 0) + v_mapping.mapped;
                categories_total := coalesce(categories_total, 0) + v_mapping.total;
            END IF;
        END LOOP;
        weekly_active_staff := (SELECT count(DISTINCT u) FROM unnest(v_staff) u);
        RETURN NEXT;
    END
    $$
    """,
    """
    CREATE FUNCTION platform_purge_tenant(p_tenant uuid)
    RETURNS TABLE (table_name text, deleted bigint)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    SET app.tenant_id = '' AS $$
    #variable_conflict use_column
    DECLARE
        v_tenant tenant%ROWTYPE;
        v_table text;
        v_count bigint;
        v_rows jsonb := '{}';
    BEGIN
        SELECT * INTO v_tenant FROM tenant t WHERE t.id = p_tenant FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no tenant %', p_tenant USING ERRCODE = 'no_data_found';
        END IF;
        -- The one invariant this function exists for: nothing is purged before the
        -- tenant has been soft-deleted for 30 days.
        IF v_tenant.status <> 'deleted' OR v_tenant.deleted_at IS NULL
           OR v_tenant.deleted_at > now() - interval '30 days' THEN
            RAISE EXCEPTION 'tenant % is not past its 30-day soft-delete window', p_tenant
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        PERFORM set_config('app.tenant_id', p_tenant::text, true);
        FOR v_table IN SELECT t.table_name FROM platform_tenant_tables() t LOOP
            EXECUTE format('DELETE FROM %I WHERE tenant_id = $1', v_table) USING p_tenant;
            GET DIAGNOSTICS v_count = ROW_COUNT;
            v_rows := v_rows || jsonb_build_object(v_table, v_count);
            table_name := v_table;
            deleted := v_count;
            RETURN NEXT;
        END LOOP;
        DELETE FROM tenant t WHERE t.id = p_tenant;
        INSERT INTO purged_tenant (id, slug, name, deleted_at, purged_at, rows_deleted)
        VALUES (v_tenant.id, v_tenant.slug, v_tenant.name, v_tenant.deleted_at, now(), v_rows);
    END
    $$
    """,
    """
    CREATE FUNCTION platform_enforce_retention(
        p_jobs_before timestamptz, p_mail_before timestamptz,
        OUT job_failures bigint, OUT mails bigint
    )
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    BEGIN
        IF p_jobs_before > now() - interval '7 days'
           OR p_mail_before > now() - interval '30 days' THEN
            RAISE EXCEPTION 'job history is kept at least 7 days and mail at least 30'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        DELETE FROM job_failure WHERE failed_at < p_jobs_before;
        GET DIAGNOSTICS job_failures = ROW_COUNT;
        -- Queued mail is never dropped, however old: it has not been delivered yet.
        DELETE FROM mail_outbox WHERE created_at < p_mail_before AND status <> 'queued';
        GET DIAGNOSTICS mails = ROW_COUNT;
    END
    $$
    """,
    """
    CREATE FUNCTION platform_expire_events(p_tenant uuid, p_before timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
    SET app.tenant_id = '' AS $$
    BEGIN
        IF p_before > now() - interval '30 days' THEN
            RAISE EXCEPTION 'events are kept at least 30 days'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM set_config('app.tenant_id', p_tenant::text, true);
        RETURN platform_source_expire_events(p_tenant, p_before);
    END
    $$
    """,
]

SIGNATURES = {
    "platform_tenant_tables": "",
    "platform_table_has": "text, text[]",
    "platform_require_operator": "",
    "platform_source_events": "uuid, timestamptz",
    "platform_source_products": "uuid",
    "platform_source_feed_pushes": "uuid, timestamptz",
    "platform_source_category_mapping": "uuid",
    "platform_source_expire_events": "uuid, timestamptz",
    "platform_tenant_usage": "uuid[], timestamptz",
    "platform_pilot_kpis": "timestamptz, timestamptz",
    "platform_purge_tenant": "uuid",
    "platform_enforce_retention": "timestamptz, timestamptz",
    "platform_expire_events": "uuid, timestamptz",
}
# What the application role may call; everything else runs only inside these.
APP_CALLABLE = (
    "platform_tenant_tables",
    "platform_tenant_usage",
    "platform_pilot_kpis",
    "platform_purge_tenant",
    "platform_enforce_retention",
    "platform_expire_events",
)


def _create_tables() -> None:
    op.create_table(
        "content_page",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seo_title", sa.Text(), nullable=True),
        sa.Column("seo_description", sa.Text(), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("og_image_url", sa.Text(), nullable=True),
        sa.Column("noindex", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
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
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_content_page")),
        sa.UniqueConstraint("tenant_id", "slug", name=op.f("uq_content_page_tenant_id_slug")),
    )
    op.create_index(
        "ix_content_page_tenant_updated", "content_page", ["tenant_id", "updated_at", "id"]
    )
    op.create_table(
        "content_page_revision",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "page_id"],
            ["content_page.tenant_id", "content_page.id"],
            name=op.f("fk_content_page_revision_tenant_id_page_id_content_page"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "page_id", "revision", name=op.f("pk_content_page_revision")
        ),
    )
    op.create_table(
        "feedback",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("context", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("contact_consent", sa.Boolean(), nullable=False),
        sa.Column("contact_email", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "contact_email IS NULL OR contact_consent",
            name=op.f("ck_feedback_contact_needs_consent"),
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_feedback_rating_range")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_feedback")),
    )
    op.create_index("ix_feedback_tenant_created", "feedback", ["tenant_id", "created_at", "id"])
    op.create_table(
        "notification_preference",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=True),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_notification_preference")),
    )
    op.create_table(
        "notification_delivery",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("event_key", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_ref", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notification_delivery")),
        sa.UniqueConstraint(
            "tenant_id",
            "event",
            "event_key",
            "channel",
            "recipient",
            name="uq_notification_delivery_once",
        ),
    )
    op.create_index(
        "ix_notification_delivery_tenant_created",
        "notification_delivery",
        ["tenant_id", "created_at", "id"],
    )
    op.create_table(
        "purged_tenant",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "purged_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("rows_deleted", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purged_tenant")),
    )


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    _create_tables()

    enable_tenant_rls("feedback", privileges=("SELECT", "INSERT"))  # append-only
    enable_tenant_rls("content_page")
    enable_tenant_rls("content_page_revision", privileges=("SELECT", "INSERT"))
    enable_tenant_rls("notification_preference")
    enable_tenant_rls("notification_delivery")
    grant_app("purged_tenant", ("SELECT",))  # written only by platform_purge_tenant

    for statement in HELPERS + SOURCES + OPERATOR_FUNCTIONS:
        op.execute(statement)
    for name, arguments in SIGNATURES.items():
        op.execute(f"REVOKE ALL ON FUNCTION {name}({arguments}) FROM PUBLIC")
    for name in APP_CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION {name}({SIGNATURES[name]}) TO {app_role()}")


def downgrade() -> None:
    for name, arguments in reversed(SIGNATURES.items()):
        op.execute(f"DROP FUNCTION IF EXISTS {name}({arguments})")
    op.drop_table("purged_tenant")
    op.drop_index("ix_notification_delivery_tenant_created", table_name="notification_delivery")
    op.drop_table("notification_delivery")
    op.drop_table("notification_preference")
    op.drop_index("ix_feedback_tenant_created", table_name="feedback")
    op.drop_table("feedback")
    op.drop_table("content_page_revision")
    op.drop_index("ix_content_page_tenant_updated", table_name="content_page")
    op.drop_table("content_page")
