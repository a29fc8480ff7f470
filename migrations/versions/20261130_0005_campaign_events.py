"""Campaign history: one row per lifecycle move (created, started, ended, archived).

Existing campaigns get their history back-filled from the timestamps they already carry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

BACKFILL = """
INSERT INTO campaign_events (campaign_id, from_stage, to_stage, ended_reason, cause, source,
                             created_at)
SELECT id, NULL, 'scheduled', NULL, 'created', 'user', created_at FROM campaigns
UNION ALL
SELECT id, 'scheduled', 'in-progress', NULL,
       CASE WHEN has_schedule_plan THEN 'earliest-at-reached' ELSE 'started-at-once' END,
       'engine', started_at
FROM campaigns WHERE started_at IS NOT NULL
UNION ALL
SELECT id, CASE WHEN started_at IS NULL THEN 'scheduled' ELSE 'in-progress' END, 'ended',
       ended_reason,
       CASE WHEN ended_reason = 'campaign.ended.success' THEN 'all-calls-ended'
            ELSE 'ended-by-user' END,
       CASE WHEN ended_reason = 'campaign.ended.success' THEN 'engine' ELSE 'user' END, ended_at
FROM campaigns WHERE status = 'ended' AND ended_at IS NOT NULL
UNION ALL
SELECT id, 'ended', 'archived', NULL, 'deleted-by-user', 'user', archived_at
FROM campaigns WHERE archived_at IS NOT NULL
ORDER BY 7
"""


def upgrade() -> None:
    op.create_table(
        "campaign_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("from_stage", sa.String(20), nullable=True),
        sa.Column("to_stage", sa.String(20), nullable=False),
        sa.Column("ended_reason", sa.String(64), nullable=True),
        sa.Column("cause", sa.String(40), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "to_stage IN ('scheduled', 'in-progress', 'ended', 'archived')",
            name=op.f("ck_campaign_events_to_stage_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_events_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_events")),
    )
    op.create_index(
        "ix_campaign_events_campaign_id", "campaign_events", ["campaign_id", "id"], unique=False
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_campaign_events_campaign_id", table_name="campaign_events")
    op.drop_table("campaign_events")
