"""Each campaign keeps its v2 summary without the closing brace (`summary_open`), so the
counters a list adds go on the end of the stored text: taking the brace off on every read
(`left(summary, -1)`) counted the characters of every summary of the page again.

Revision ID: 0704
Revises: 0703
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0704"
down_revision: str | None = "0703"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# campaign_summary (migration 0701) renders the summary.
SUMMARY = (
    "campaign_summary(status, ended_reason, name, id, org_id, created_at, updated_at,"
    " assistant_id, squad_id, phone_number_id, has_schedule_plan, earliest_at, latest_at,"
    " max_concurrency, calling_window, retry_plan, paused_at, paused_by, pause_reason,"
    " resumed_at, extra_config)"
)


def upgrade() -> None:
    op.execute("ALTER TABLE campaigns DROP COLUMN summary")
    op.execute(
        "ALTER TABLE campaigns ADD COLUMN summary_open text"
        f" GENERATED ALWAYS AS (left({SUMMARY}, -1)) STORED"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE campaigns DROP COLUMN summary_open")
    op.execute(
        f"ALTER TABLE campaigns ADD COLUMN summary text GENERATED ALWAYS AS ({SUMMARY}) STORED"
    )
