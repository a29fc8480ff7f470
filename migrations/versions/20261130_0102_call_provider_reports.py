"""What Vapi reports about a call: when its latest dial started and when Vapi was last heard
of or polled about it, the provider's refusal text, the cost and the end-of-call report.

Revision ID: 0102
Revises: 0601
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0102"
down_revision: str | None = "0601"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=True)
    op.add_column("calls", sa.Column("last_attempt_at", stamp, nullable=True))
    op.add_column("calls", sa.Column("reported_at", stamp, nullable=True))
    op.add_column("calls", sa.Column("polled_at", stamp, nullable=True))
    op.add_column("calls", sa.Column("provider_error", sa.Text(), nullable=True))
    op.add_column("calls", sa.Column("cost", sa.Float(), nullable=True))
    op.add_column(
        "calls", sa.Column("end_report", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )


def downgrade() -> None:
    for column in (
        "end_report",
        "cost",
        "provider_error",
        "polled_at",
        "reported_at",
        "last_attempt_at",
    ):
        op.drop_column("calls", column)
