"""The feasibility estimate made when a campaign is created (can it finish before latestAt?).

Revision ID: 0505
Revises: 0504
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0505"
down_revision: str | None = "0504"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("feasibility", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaigns", "feasibility")
