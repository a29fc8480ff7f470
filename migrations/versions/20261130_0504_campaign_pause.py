"""Pause and resume: when a running campaign was paused, by whom (user or engine) and why,
when it was last resumed, and the reason on its history rows.

Revision ID: 0504
Revises: 0503
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0504"
down_revision: str | None = "0503"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("paused_at", TS, nullable=True))
    op.add_column("campaigns", sa.Column("paused_by", sa.String(20), nullable=True))
    op.add_column("campaigns", sa.Column("pause_reason", sa.Text(), nullable=True))
    op.add_column("campaigns", sa.Column("resumed_at", TS, nullable=True))
    op.create_check_constraint(
        op.f("ck_campaigns_paused_by_valid"), "campaigns", "paused_by IN ('user', 'engine')"
    )
    op.add_column("campaign_events", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign_events", "reason")
    op.drop_constraint(op.f("ck_campaigns_paused_by_valid"), "campaigns", type_="check")
    op.drop_column("campaigns", "resumed_at")
    op.drop_column("campaigns", "pause_reason")
    op.drop_column("campaigns", "paused_by")
    op.drop_column("campaigns", "paused_at")
