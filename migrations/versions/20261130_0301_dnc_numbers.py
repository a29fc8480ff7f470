"""Do-not-call list: one row per number an org must never call.

Revision ID: 0301
Revises: 0101
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0301"
down_revision: str | None = "0101"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dnc_numbers",
        sa.Column("org_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name="fk_dnc_numbers_org_id_orgs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "number", name="pk_dnc_numbers"),
    )
    op.create_index("ix_dnc_numbers_org_created", "dnc_numbers", ["org_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_dnc_numbers_org_created", table_name="dnc_numbers")
    op.drop_table("dnc_numbers")
