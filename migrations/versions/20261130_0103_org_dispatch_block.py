"""An org whose provider refused its credentials stops dispatching: the reason (shown on its
campaigns) and since when. A new key clears it.

Revision ID: 0103
Revises: 0102
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0103"
down_revision: str | None = "0102"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orgs", sa.Column("dispatch_blocked_reason", sa.Text(), nullable=True))
    op.add_column(
        "orgs", sa.Column("dispatch_blocked_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("orgs", "dispatch_blocked_at")
    op.drop_column("orgs", "dispatch_blocked_reason")
