"""A call can be skipped because its number's time zones share no calling hours (the
window never opens in all of them at once).

Revision ID: 0506
Revises: 0505
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0506"
down_revision: str | None = "0505"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "skip_reason IN ('predial-ineligible', 'predial-failed', 'do-not-call')"
AFTER = "skip_reason IN ('predial-ineligible', 'predial-failed', 'do-not-call', 'no-calling-hours')"


def _replace(check: str) -> None:
    op.drop_constraint(op.f("ck_calls_skip_reason_valid"), "calls", type_="check")
    op.create_check_constraint(op.f("ck_calls_skip_reason_valid"), "calls", check)


def upgrade() -> None:
    _replace(AFTER)


def downgrade() -> None:
    op.execute("UPDATE calls SET skip_reason = NULL WHERE skip_reason = 'no-calling-hours'")
    _replace(BEFORE)
