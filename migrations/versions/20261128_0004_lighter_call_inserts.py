"""Cheaper bulk inserts of calls: one foreign key check per row instead of two, and no index
entries for calls that have no provider call ID yet.

The org of a call is now checked against its campaign's org (a composite foreign key), which
is both stronger and one trigger per row lighter than checking each against its own table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint("uq_campaigns_id_org_id", "campaigns", ["id", "org_id"])
    op.drop_constraint("fk_calls_org_id_orgs", "calls", type_="foreignkey")
    op.drop_constraint("fk_calls_campaign_id_campaigns", "calls", type_="foreignkey")
    op.create_foreign_key(
        "fk_calls_campaign_id_campaigns",
        "calls",
        "campaigns",
        ["campaign_id", "org_id"],
        ["id", "org_id"],
    )
    op.drop_index("ix_calls_provider_call_id", table_name="calls")
    op.create_index(
        "ix_calls_provider_call_id",
        "calls",
        ["provider_call_id"],
        postgresql_where=sa.text("provider_call_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_calls_provider_call_id", table_name="calls")
    op.create_index("ix_calls_provider_call_id", "calls", ["provider_call_id"])
    op.drop_constraint("fk_calls_campaign_id_campaigns", "calls", type_="foreignkey")
    op.create_foreign_key(
        "fk_calls_campaign_id_campaigns", "calls", "campaigns", ["campaign_id"], ["id"]
    )
    op.create_foreign_key("fk_calls_org_id_orgs", "calls", "orgs", ["org_id"], ["id"])
    op.drop_constraint("uq_campaigns_id_org_id", "campaigns", type_="unique")
