"""Each org gets the secret its campaign events are signed with (Standard Webhooks).

Revision ID: 0402
Revises: 0401
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0402"
down_revision: str | None = "0401"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "orgs",
        sa.Column(
            "webhook_secret",
            sa.String(length=80),
            server_default=sa.text(
                "('whsec_'::text || replace(((gen_random_uuid())::text || "
                "(gen_random_uuid())::text), '-'::text, ''::text))"
            ),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("orgs", "webhook_secret")
