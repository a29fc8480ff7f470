"""Why a call ended without ever being dialed, when a check screened it out right before the
dial: the user's pre-dial server said not eligible or gave no valid answer, or the number is
on the org's do-not-call list.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("calls", sa.Column("skip_reason", sa.String(40), nullable=True))
    op.create_check_constraint(
        op.f("ck_calls_skip_reason_valid"),
        "calls",
        "skip_reason IN ('predial-ineligible', 'predial-failed', 'do-not-call')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_calls_skip_reason_valid"), "calls", type_="check")
    op.drop_column("calls", "skip_reason")
