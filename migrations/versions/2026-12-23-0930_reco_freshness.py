"""reco_freshness: each model version keeps its offline scores

`reco_model.scores` holds `{strategy: {"hit_rate", "ndcg"}}` measured on the last week
held out when the version was fitted (`GET {T}/recommendations/models`); versions fitted
before have none. The table already has row-level security.

Revision ID: 0240_reco_freshness
Revises: 0200_observability
Create Date: 2026-12-23 09:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0240_reco_freshness"
down_revision: str | Sequence[str] | None = "0220_feed_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Fail fast instead of queueing behind a long transaction and blocking every query.
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column(
        "reco_model",
        sa.Column("scores", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("reco_model", "scores")
