"""access notifications: PostgreSQL tells API processes when who-may-enter-what changes

API processes remember tenants' statuses, memberships, API keys and revoked staff sessions
(mercato.modules.identity.access); these triggers notify the channel `mercato_access` at
commit, whoever writes the change. The partial index finds recently revoked sessions when a
process (re)connects.

Revision ID: 0100_access_notify
Revises: 0090_intelligence
Create Date: 2026-12-07 03:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0100_access_notify"
down_revision: str | Sequence[str] | None = "0090_intelligence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, trigger name, payload prefix, subject column, events, condition)
TRIGGERS = [
    ("tenant", "tenant_access", "t", "id", "UPDATE OR DELETE", None),
    ("membership", "membership_access", "t", "tenant_id", "INSERT OR UPDATE OR DELETE", None),
    (
        "api_key",
        "api_key_access",
        "t",
        "tenant_id",
        "UPDATE OF revoked_at, kind, permission, allowed_origins, key_hash OR DELETE",
        None,
    ),
    ("staff_user", "staff_user_access", "u", "id", "UPDATE OF is_platform_admin OR DELETE", None),
    ("refresh_token", "refresh_token_revoked", "s", "family_id", "DELETE", None),
    (
        "refresh_token",
        "refresh_token_revoked_at",
        "s",
        "family_id",
        "UPDATE OF revoked_at",
        "NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL",
    ),
]


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        """
        CREATE FUNCTION mercato_notify_access() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            changed jsonb;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                changed := to_jsonb(OLD);
            ELSE
                changed := to_jsonb(NEW);
            END IF;
            PERFORM pg_notify('mercato_access', TG_ARGV[0] || ':' || (changed ->> TG_ARGV[1]));
            RETURN NULL;
        END
        $$
        """
    )
    for table, name, prefix, column, events, condition in TRIGGERS:
        when = f" WHEN ({condition})" if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW{when} "
            f"EXECUTE FUNCTION mercato_notify_access('{prefix}', '{column}')"
        )
    op.execute(
        "CREATE INDEX ix_refresh_token_revoked_at ON refresh_token (revoked_at) "
        "WHERE revoked_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_refresh_token_revoked_at")
    for table, name, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION mercato_notify_access()")
