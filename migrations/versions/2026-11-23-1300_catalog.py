"""catalog and media: categories, products, search vocabulary, imports, media assets

Revision ID: 0010_catalog
Revises: 0004_locations
Create Date: 2026-11-23 12:19:17.097980+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from mercato.kernel.rls import app_role, enable_tenant_rls

# Keeps the tenant's search vocabulary (catalog_term) in step with product writes. One
# statement-level call per INSERT/UPDATE statement, set-based over the transition table,
# so a 1,000-row upsert costs one INSERT … SELECT, not a thousand trigger calls. Words
# come from the 'simple' text-search parser (lower-cased, no stemming): C code, not regex.
COLLECT_TERMS = """
CREATE FUNCTION catalog_collect_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_term (tenant_id, term)
    SELECT w.tenant_id, w.term
    FROM (
        SELECT DISTINCT n.tenant_id, t.lexeme AS term
        FROM changed_rows n,
             LATERAL unnest(
                 to_tsvector('simple', concat_ws(' ', n.name, n.brand, n.category_path))
             ) AS t
        WHERE n.deleted_at IS NULL
    ) AS w
    WHERE length(w.term) BETWEEN 3 AND 40 AND w.term ~ '[[:alpha:]]'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$
"""
revision: str = "0010_catalog"
down_revision: str | Sequence[str] | None = "0004_locations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Full-text search under row-level security: PostgreSQL will not use an index for a
# non-leakproof operator such as `@@` below a security policy, so a search would scan
# every tenant's rows. `catalog_text_search` runs as a NOLOGIN reader role whose own
# policy is `true` (the planner then keeps the GIN index) and returns product ids and
# ranks of the transaction's tenant only. The role can read four columns and nothing else.
SEARCH_ROLE = "mercato_catalog_search"
SEARCH_FUNCTION = """
CREATE FUNCTION catalog_text_search(query tsquery)
RETURNS TABLE (product_id text, rank real)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
ROWS 500
AS $$
    SELECT p.product_id, ts_rank(p.search_vector, query)
    FROM public.product p
    WHERE p.tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
      AND p.deleted_at IS NULL
      AND p.search_vector @@ query
$$
"""


# One page of a text search, filtered, sorted and cut inside the function, so only the
# page's ids leave it. Sort and cursor fragments are constants picked by `sort`; every
# value travels as a parameter (EXECUTE … USING), which also gives a plan per call.
SEARCH_PAGE_FUNCTION = """
CREATE FUNCTION catalog_search_page(
    query tsquery, sort text, category_ids uuid[], brand_is text, min_key bigint,
    max_key bigint, is_available boolean, page_size int, after_key text, after_id text
)
RETURNS TABLE (product_id text, rank real)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    -- Ranking costs a pass over every match: only the relevance order pays for it.
    scored text := CASE sort WHEN 'relevance' THEN 'ts_rank(p.search_vector, $1)'
        ELSE '0::real' END;
    ordering text := CASE sort
        WHEN 'price_asc' THEN 'p.price_key, p.product_id'
        WHEN 'price_desc' THEN 'p.price_key DESC, p.product_id DESC'
        WHEN 'newest' THEN 'p.created_at DESC, p.product_id DESC'
        ELSE 'rank DESC, p.product_id' END;
    beyond text := CASE sort
        WHEN 'price_asc' THEN '(p.price_key, p.product_id) > ($9::bigint, $10)'
        WHEN 'price_desc' THEN '(p.price_key, p.product_id) < ($9::bigint, $10)'
        WHEN 'newest' THEN '(p.created_at, p.product_id) < ($9::timestamptz, $10)'
        ELSE '(ts_rank(p.search_vector, $1) < $9::real OR '
             '(ts_rank(p.search_vector, $1) = $9::real AND p.product_id > $10))' END;
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT p.product_id, %s AS rank FROM public.product p '
        'WHERE p.tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid '
        'AND p.deleted_at IS NULL AND p.search_vector @@ $1 '
        'AND ($2::uuid[] IS NULL OR p.category_id = ANY($2)) '
        'AND ($3::text IS NULL OR p.brand = $3) '
        'AND ($4::bigint IS NULL OR p.price_key >= $4) '
        'AND ($5::bigint IS NULL OR p.price_key <= $5) '
        'AND ($6::boolean IS NULL OR p.available = $6) '
        'AND ($9::text IS NULL OR %s) '
        'ORDER BY %s LIMIT $8', scored, beyond, ordering)
    USING query, category_ids, brand_is, min_key, max_key, is_available, sort,
          page_size, after_key, after_id;
END
$$
"""
PAGE_SIGNATURE = (
    "catalog_search_page(tsquery, text, uuid[], text, bigint, bigint, boolean, int, text, text)"
)


def _create_search_reader() -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SEARCH_ROLE}') THEN
                CREATE ROLE {SEARCH_ROLE} NOLOGIN;
            END IF;
            -- Needed to hand it the function below (ALTER … OWNER TO).
            BEGIN
                EXECUTE 'GRANT {SEARCH_ROLE} TO ' || quote_ident(current_user);
            EXCEPTION WHEN others THEN
                RAISE NOTICE 'could not grant {SEARCH_ROLE} to %: %', current_user, SQLERRM;
            END;
        END
        $$;
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {SEARCH_ROLE}")
    op.execute(
        "GRANT SELECT (tenant_id, product_id, search_vector, deleted_at, category_id, brand, "
        f"price_key, available, created_at) ON product TO {SEARCH_ROLE}"
    )
    op.execute(
        f"CREATE POLICY catalog_search_reader ON product FOR SELECT TO {SEARCH_ROLE} USING (true)"
    )
    op.execute(SEARCH_FUNCTION)
    op.execute(f"ALTER FUNCTION catalog_text_search(tsquery) OWNER TO {SEARCH_ROLE}")
    op.execute("REVOKE ALL ON FUNCTION catalog_text_search(tsquery) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION catalog_text_search(tsquery) TO {app_role()}")
    op.execute(SEARCH_PAGE_FUNCTION)
    op.execute(f"ALTER FUNCTION {PAGE_SIGNATURE} OWNER TO {SEARCH_ROLE}")
    op.execute(f"REVOKE ALL ON FUNCTION {PAGE_SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {PAGE_SIGNATURE} TO {app_role()}")


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "catalog_term",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_catalog_term_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "term", name=op.f("pk_catalog_term")),
    )
    op.create_index(
        "ix_catalog_term_trigram",
        "catalog_term",
        ["tenant_id", "term"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"term": "gist_trgm_ops"},
    )
    op.create_table(
        "category",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("google_category_id", sa.Integer(), nullable=True),
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
            ["tenant_id", "parent_id"],
            ["category.tenant_id", "category.id"],
            name=op.f("fk_category_tenant_id_parent_id_category"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_category_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_category")),
    )
    op.create_index(
        "ix_category_tenant_parent", "category", ["tenant_id", "parent_id"], unique=False
    )
    op.create_index(
        "uq_category_tenant_path",
        "category",
        ["tenant_id", sa.literal_column("lower(path)")],
        unique=True,
    )
    op.create_table(
        "media_asset",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("extension", sa.Text(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("byte_size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("original_filename", sa.Text(), nullable=True),
        sa.Column("renditions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_media_asset_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_media_asset")),
    )
    op.create_table(
        "product_import",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.Text(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_product_import_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_product_import")),
    )
    op.create_index(
        "ix_product_import_source",
        "product_import",
        ["tenant_id", "source_sha256", "chunk_size"],
        unique=False,
    )
    op.create_table(
        "product",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("sale_price", sa.Numeric(), nullable=True),
        sa.Column(
            "price_key",
            sa.BigInteger(),
            sa.Computed("(coalesce(sale_price, price) * 10000)::bigint", persisted=True),
            nullable=False,
        ),
        sa.Column("brand", sa.Text(), nullable=True),
        sa.Column("gtin", sa.Text(), nullable=True),
        sa.Column("mpn", sa.Text(), nullable=True),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("additional_image_urls", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("item_group_id", sa.Text(), nullable=True),
        sa.Column("variant_attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=True),
        sa.Column("category_path", sa.Text(), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
                "setweight(to_tsvector('english'::regconfig, coalesce(brand, '')), 'B') || "
                "setweight(to_tsvector('english'::regconfig, coalesce(category_path, '')), 'C') || "
                "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'D')",
                persisted=True,
            ),
            nullable=False,
        ),
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
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "category_id"],
            ["category.tenant_id", "category.id"],
            name=op.f("fk_product_tenant_id_category_id_category"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_product_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "product_id", name=op.f("pk_product")),
    )
    op.create_index("ix_product_brand", "product", ["tenant_id", "brand"], unique=False)
    op.create_index("ix_product_category", "product", ["tenant_id", "category_id"], unique=False)
    op.create_index(
        "ix_product_newest",
        "product",
        ["tenant_id", "created_at", "product_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_product_price",
        "product",
        ["tenant_id", "price_key", "product_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_product_search",
        "product",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "product_import_chunk",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column(
            "completed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "import_id"],
            ["product_import.tenant_id", "product_import.id"],
            name=op.f("fk_product_import_chunk_tenant_id_import_id_product_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "import_id", "chunk_no", name=op.f("pk_product_import_chunk")
        ),
    )
    # ### end Alembic commands ###
    for table in (
        "category",
        "product",
        "catalog_term",
        "product_import",
        "product_import_chunk",
        "media_asset",
    ):
        enable_tenant_rls(table)
    op.execute(COLLECT_TERMS)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER product_terms_{event.lower()} AFTER {event} ON product "
            "REFERENCING NEW TABLE AS changed_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION catalog_collect_terms()"
        )
    _create_search_reader()


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS catalog_text_search(tsquery)")
    op.execute(f"DROP FUNCTION IF EXISTS {PAGE_SIGNATURE}")
    op.execute("DROP POLICY IF EXISTS catalog_search_reader ON product")
    op.execute(f"REVOKE ALL ON product FROM {SEARCH_ROLE}")
    op.execute("DROP TRIGGER IF EXISTS product_terms_insert ON product")
    op.execute("DROP TRIGGER IF EXISTS product_terms_update ON product")
    op.execute("DROP FUNCTION IF EXISTS catalog_collect_terms()")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table("product_import_chunk")
    op.drop_index(
        "ix_product_search",
        table_name="product",
        postgresql_using="gin",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "ix_product_price", table_name="product", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index(
        "ix_product_newest", table_name="product", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index("ix_product_category", table_name="product")
    op.drop_index("ix_product_brand", table_name="product")
    op.drop_table("product")
    op.drop_index("ix_product_import_source", table_name="product_import")
    op.drop_table("product_import")
    op.drop_table("media_asset")
    op.drop_index("uq_category_tenant_path", table_name="category")
    op.drop_index("ix_category_tenant_parent", table_name="category")
    op.drop_table("category")
    op.drop_index(
        "ix_catalog_term_trigram",
        table_name="catalog_term",
        postgresql_using="gist",
        postgresql_ops={"term": "gist_trgm_ops"},
    )
    op.drop_table("catalog_term")
    # ### end Alembic commands ###
