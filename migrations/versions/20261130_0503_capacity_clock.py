"""The capacity window per call: when a waiting call began to wait for a free slot (its
retry time, the opening of its calling hours, or the campaign's resume), indexed for the
engine's sweep of calls whose wait is over.

Revision ID: 0503
Revises: 0502
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0503"
down_revision: str | None = "0502"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("capacity_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_calls_waiting_since",
        "calls",
        ["campaign_id", "capacity_since"],
        unique=False,
        postgresql_where=sa.text("(status = 'scheduled' AND lease_expires_at IS NULL)"),
    )


def downgrade() -> None:
    op.drop_index("ix_calls_waiting_since", table_name="calls")
    op.drop_column("calls", "capacity_since")
