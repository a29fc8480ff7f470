"""Numbers for running dispatchers: each holds an advisory lock on its number while alive, so
the others recover a dead one's leases as soon as its lock is gone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE dispatcher_worker_ids")


def downgrade() -> None:
    op.execute("DROP SEQUENCE dispatcher_worker_ids")
