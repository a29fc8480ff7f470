"""Each call keeps its JSON document (its entry in a campaign's `calls` map), computed by
PostgreSQL whenever the row is written, so reading a campaign of 10,000 calls joins stored
text instead of rendering every call again.

Revision ID: 0601
Revises: 0201
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0601"
down_revision: str | None = "0201"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Immutable in fact: every timestamp is rendered in UTC by an explicit pattern with no
# locale-dependent field, and the other values print the same whatever the settings.
FUNCTION = """
CREATE FUNCTION call_document(
    id uuid, campaign_id uuid, call_position integer, customer jsonb, phone_number_id text,
    status text, ended_reason text, skip_reason text, attempt_number integer, contact_id uuid,
    waiting boolean, next_attempt_at timestamptz, started_at timestamptz, ended_at timestamptz,
    created_at timestamptz, updated_at timestamptz
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_strip_nulls(json_build_object(
        'id', id, 'campaignId', campaign_id, 'position', call_position, 'customer', customer,
        'phoneNumberId', phone_number_id, 'status', status, 'endedReason', ended_reason,
        'skipReason', skip_reason, 'attempt', attempt_number, 'contactId', contact_id,
        'nextAttemptAt', CASE WHEN waiting THEN to_char(next_attempt_at AT TIME ZONE 'UTC',
                                                        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
        'startedAt', to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'endedAt', to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updatedAt', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    ))::text
$$
"""

# A waiting call (not placed, not being dialed) shows its retry time.
DOCUMENT = (
    "call_document(id, campaign_id, position, customer, phone_number_id, status, ended_reason,"
    " skip_reason, attempt_number, contact_id,"
    " (status = 'scheduled' AND lease_expires_at IS NULL),"
    " next_attempt_at, started_at, ended_at, created_at, updated_at)"
)


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(
        f"ALTER TABLE calls ADD COLUMN document text GENERATED ALWAYS AS ({DOCUMENT}) STORED"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE calls DROP COLUMN document")
    op.execute("DROP FUNCTION call_document")
