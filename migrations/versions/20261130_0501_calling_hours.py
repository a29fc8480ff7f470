"""Local calling hours: a campaign's calling window, each call's time zones, and when the
stretch of calling hours a waiting call is in closes.

Revision ID: 0501
Revises: 0301
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0501"
down_revision: str | None = "0301"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("calling_window", postgresql.JSONB(), nullable=True))
    op.add_column("calls", sa.Column("time_zones", postgresql.ARRAY(sa.Text()), nullable=True))
    op.add_column("calls", sa.Column("window_closes_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_calls_window_closes_at",
        "calls",
        ["window_closes_at"],
        unique=False,
        postgresql_where=sa.text(
            "(status = 'scheduled' AND lease_expires_at IS NULL) AND window_closes_at IS NOT NULL"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_calls_window_closes_at", table_name="calls")
    op.drop_column("calls", "window_closes_at")
    op.drop_column("calls", "time_zones")
    op.drop_column("campaigns", "calling_window")
