"""security review: invitations accepted by token, sealed mail bodies

Invitations gain a single-use token (stored hashed) and an expiry: an address joins a
tenant only when its mailbox's owner accepts. The row is readable across tenants by
whoever presents the token's hash (`app.invitation_token_hash`), no longer by any account
that claims the address. Mail that carries a secret keeps its bodies sealed.

Revision ID: 0110_security_review
Revises: 0100_access_notify
Create Date: 2026-12-20 10:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0110_security_review"
down_revision: str | Sequence[str] | None = "0100_access_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
PRESENTED_HASH = "decode(NULLIF(current_setting('app.invitation_token_hash', true), ''), 'hex')"
BY_TOKEN = f"token_hash = {PRESENTED_HASH}"
BY_EMAIL = "lower(email) = lower(NULLIF(current_setting('app.user_email', true), ''))"


def _invitation_policy(extra: str) -> None:
    op.execute("DROP POLICY tenant_isolation ON invitation")
    op.execute(
        f"CREATE POLICY tenant_isolation ON invitation USING (({TENANT}) OR ({extra})) "
        f"WITH CHECK ({TENANT})"
    )


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("mail_outbox", sa.Column("body_sealed", sa.LargeBinary(), nullable=True))
    op.add_column("invitation", sa.Column("token_hash", sa.LargeBinary(), nullable=True))
    op.add_column("invitation", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_invitation_token_hash", "invitation", ["token_hash"], unique=False)
    # Invitations sent before tokens existed have none: inviting the address again renews
    # them with one.
    _invitation_policy(BY_TOKEN)


def downgrade() -> None:
    _invitation_policy(BY_EMAIL)
    op.drop_index("ix_invitation_token_hash", table_name="invitation")
    op.drop_column("invitation", "expires_at")
    op.drop_column("invitation", "token_hash")
    op.drop_column("mail_outbox", "body_sealed")
