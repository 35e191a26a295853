"""What a tenant's portability export takes from identity: the tenant row and the staff
accounts of its members (platform's `mercato export tenant` writes them)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg import sql

STAFF_TABLE = "staff_user"


def tenant_row(conn: psycopg.Connection[tuple[Any, ...]], reference: str) -> dict[str, Any] | None:
    """The tenant with this id or slug, every column, as JSON; None when there is none."""
    try:
        key, column = str(uuid.UUID(reference)), "id"
    except ValueError:
        key, column = reference, "slug"
    row = conn.execute(
        sql.SQL("SELECT to_jsonb(t) FROM tenant t WHERE {} = %s").format(sql.Identifier(column)),
        (key,),
    ).fetchone()
    return None if row is None else dict(row[0])


def members_staff_rows(tenant_id: uuid.UUID) -> tuple[str, sql.Composed]:
    """The staff table and the condition, on its alias `t`, that keeps the tenant's members."""
    members = sql.SQL("t.id IN (SELECT user_id FROM membership WHERE tenant_id = {})").format(
        sql.Literal(str(tenant_id))
    )
    return STAFF_TABLE, members
