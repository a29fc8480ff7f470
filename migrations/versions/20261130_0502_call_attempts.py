"""Retries: a campaign's retry plan, and each attempt at a contact as its own call record
(numbered, linked to the contact's first record). Position stays the contact's dial order, so
it is unique per attempt.

Revision ID: 0502
Revises: 0501
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0502"
down_revision: str | None = "0501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("retry_plan", postgresql.JSONB(), nullable=True))
    op.add_column(
        "calls",
        sa.Column("attempt_number", sa.Integer(), server_default="1", nullable=False),
    )
    op.add_column("calls", sa.Column("contact_id", sa.UUID(), nullable=True))
    op.drop_constraint("uq_calls_campaign_position", "calls", type_="unique")
    op.create_unique_constraint(
        "uq_calls_campaign_position_attempt", "calls", ["campaign_id", "position", "attempt_number"]
    )


def downgrade() -> None:
    # Later attempts cannot keep their place in a one-record-per-contact schema.
    op.execute(
        "DELETE FROM call_events WHERE call_id IN (SELECT id FROM calls WHERE attempt_number > 1)"
    )
    op.execute("DELETE FROM calls WHERE attempt_number > 1")
    op.drop_constraint("uq_calls_campaign_position_attempt", "calls", type_="unique")
    op.create_unique_constraint("uq_calls_campaign_position", "calls", ["campaign_id", "position"])
    op.drop_column("calls", "contact_id")
    op.drop_column("calls", "attempt_number")
    op.drop_column("campaigns", "retry_plan")
