"""Dispatch bookkeeping on calls: attempts, lease, retry time, provider call ID.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("calls", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("calls", sa.Column("lease_owner", sa.Text(), nullable=True))
    op.add_column("calls", sa.Column("lease_expires_at", TS, nullable=True))
    op.add_column("calls", sa.Column("next_attempt_at", TS, nullable=True))
    op.add_column("calls", sa.Column("provider_call_id", sa.Text(), nullable=True))
    # Calls waiting to be claimed, in dial order.
    op.create_index(
        "ix_calls_due",
        "calls",
        ["campaign_id", "position"],
        postgresql_where=sa.text("status = 'scheduled' AND lease_expires_at IS NULL"),
    )
    # Calls that hold a concurrency slot: placed and not ended, or being dialed.
    op.create_index(
        "ix_calls_org_in_flight",
        "calls",
        ["org_id"],
        postgresql_where=sa.text(
            "status IN ('queued', 'ringing', 'in-progress', 'forwarding') "
            "OR lease_expires_at IS NOT NULL"
        ),
    )
    op.create_index(
        "ix_calls_lease_expires_at",
        "calls",
        ["lease_expires_at"],
        postgresql_where=sa.text("lease_expires_at IS NOT NULL"),
    )
    op.create_index("ix_calls_provider_call_id", "calls", ["provider_call_id"])
    op.create_index(
        "ix_campaigns_live_status",
        "campaigns",
        ["status"],
        postgresql_where=sa.text("status <> 'ended'"),
    )


def downgrade() -> None:
    op.drop_index("ix_campaigns_live_status", table_name="campaigns")
    op.drop_index("ix_calls_provider_call_id", table_name="calls")
    op.drop_index("ix_calls_lease_expires_at", table_name="calls")
    op.drop_index("ix_calls_org_in_flight", table_name="calls")
    op.drop_index("ix_calls_due", table_name="calls")
    for column in (
        "provider_call_id",
        "next_attempt_at",
        "lease_expires_at",
        "lease_owner",
        "attempts",
    ):
        op.drop_column("calls", column)
