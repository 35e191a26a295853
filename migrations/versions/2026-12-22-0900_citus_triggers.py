"""citus triggers: the access and catalog triggers work on Citus shards too

On a Citus cluster (mercato.kernel.citus) a table's triggers run on its shards: those of a
reference table on every node, those of a distributed table on the workers. A NOTIFY on a
worker reaches no API process (they listen on the coordinator) and makes the two-phase
commit of a transaction that writes to several nodes fail ("cannot PREPARE a transaction
that has executed NOTIFY"). The function now notifies only where clients listen: on plain
PostgreSQL and on the coordinator. Changes to the distributed `membership` and `api_key`
are notified by the application on the coordinator (mercato.modules.identity.access).

The catalog's statement trigger on `product` wrote `catalog_term` with one INSERT … SELECT
over its transition table; on a shard that INSERT is a distributed query, which cannot
read a transition table. It now reads the words into arrays first (a plain query) and
inserts from those: the same one statement per product statement, on PostgreSQL too.

Revision ID: 0170_citus_triggers
Revises: 0160_shared_blobs
Create Date: 2026-12-22 09:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0170_citus_triggers"
down_revision: str | Sequence[str] | None = "0160_shared_blobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY = "PERFORM pg_notify('mercato_access', TG_ARGV[0] || ':' || (changed ->> TG_ARGV[1]));"


def _function(guard: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION mercato_notify_access() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            changed jsonb;
        BEGIN
            {guard}
            IF TG_OP = 'DELETE' THEN
                changed := to_jsonb(OLD);
            ELSE
                changed := to_jsonb(NEW);
            END IF;
            {NOTIFY}
            RETURN NULL;
        END
        $$
        """


# Nested IFs: plpgsql plans `citus_is_coordinator()` only where the extension exists.
CITUS_WORKER_GUARD = """
            IF to_regproc('citus_is_coordinator') IS NOT NULL THEN
                IF NOT citus_is_coordinator() THEN
                    RETURN NULL;
                END IF;
            END IF;
"""


WORDS = """
        SELECT DISTINCT n.tenant_id, t.lexeme AS term
        FROM changed_rows n,
             LATERAL unnest(
                 to_tsvector('simple', concat_ws(' ', n.name, n.brand, n.category_path))
             ) AS t
        WHERE n.deleted_at IS NULL
"""
KEPT = "length(w.term) BETWEEN 3 AND 40 AND w.term ~ '[[:alpha:]]'"

COLLECT_TERMS = f"""
CREATE OR REPLACE FUNCTION catalog_collect_terms() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tenants uuid[];
    terms text[];
BEGIN
    SELECT array_agg(w.tenant_id), array_agg(w.term) INTO tenants, terms
    FROM ({WORDS}) AS w
    WHERE {KEPT};
    IF terms IS NOT NULL THEN
        INSERT INTO catalog_term (tenant_id, term)
        SELECT * FROM unnest(tenants, terms)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""  # noqa: S608 - module constants only

PREVIOUS_COLLECT_TERMS = f"""
CREATE OR REPLACE FUNCTION catalog_collect_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_term (tenant_id, term)
    SELECT w.tenant_id, w.term
    FROM ({WORDS}) AS w
    WHERE {KEPT}
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$
"""  # noqa: S608 - module constants only


def upgrade() -> None:
    op.execute(_function(CITUS_WORKER_GUARD))
    op.execute(COLLECT_TERMS)


def downgrade() -> None:
    op.execute(_function(""))
    op.execute(PREVIOUS_COLLECT_TERMS)
