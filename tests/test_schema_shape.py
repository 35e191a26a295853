"""The schema stays distributable and isolated: checks over every table of the migrated database.

- Citus can distribute by `tenant_id` only if it leads every tenant table's primary key and
  every unique constraint and unique index.
- Every tenant table has forced row-level security (see tests/kernel/test_rls.py), and
  every policy reads `current_setting(…, true)` through NULLIF (safe with no tenant set).
"""

from __future__ import annotations

import psycopg

TENANT_TABLES = """
    SELECT c.oid, c.relname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""

UNIQUE_KEYS = """
    SELECT i.indexrelid::regclass::text, i.indisprimary,
           (SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0]) AS first_column
    FROM pg_index i
    WHERE i.indrelid = %s AND (i.indisunique OR i.indisprimary)
"""


def test_tenant_id_leads_every_primary_key_and_unique_key(owner_dsn: str) -> None:
    offenders = []
    with psycopg.connect(owner_dsn) as conn:
        tables = conn.execute(TENANT_TABLES).fetchall()
        assert tables, "no tenant tables found"
        for oid, name in tables:
            keys = conn.execute(UNIQUE_KEYS, (oid,)).fetchall()
            if not any(primary for _, primary, _ in keys):
                offenders.append(f"{name}: no primary key")
            offenders += [
                f"{name}: {index} starts with {first}"
                for index, _, first in keys
                if first != "tenant_id"
            ]
    assert offenders == []


def test_every_policy_reads_its_settings_through_nullif(owner_dsn: str) -> None:
    """An unset setting reads as '' once a `SET LOCAL` earlier in the session ended: a
    policy casting it directly would fail instead of matching nothing."""
    with psycopg.connect(owner_dsn) as conn:
        policies = conn.execute(
            "SELECT tablename, policyname, concat_ws(' ', qual, with_check) FROM pg_policies"
        ).fetchall()
    assert any("current_setting(" in text for _, _, text in policies)
    offenders = [
        f"{table}.{name}"
        for table, name, text in policies
        if text.count("current_setting(") != text.count("NULLIF(current_setting(")
    ]
    assert offenders == []
