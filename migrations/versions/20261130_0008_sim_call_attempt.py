"""The simulated network records which attempt of a call reached it first, so crash tests can
tell a dial that was on the wire from one started later.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sim_calls", sa.Column("attempt", sa.Integer(), server_default="1", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("sim_calls", "attempt")
