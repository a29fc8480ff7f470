"""A partial index on calls that have not ended: finishing campaigns and the /metrics gauges
look only at open calls, so their cost follows the work in progress, not the whole history.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_calls_open",
        "calls",
        ["campaign_id"],
        postgresql_where=sa.text(
            "status IN ('scheduled', 'queued', 'ringing', 'in-progress', 'forwarding')"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_calls_open", table_name="calls")
