"""Each campaign keeps its v2 summary (without counters) and the head of its v1 body (the
fields of its own row) as text, computed by PostgreSQL whenever the row is written, so a
page of campaigns reads stored text instead of rendering every campaign again. A campaign
whose opaque objects (assistantOverrides...) are larger than 256 KiB stores both without
them: they are sent in chunks.

Revision ID: 0701
Revises: 0402
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0701"
down_revision: str | None = "0402"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Immutable in fact, as call_document (0601): timestamps are rendered in UTC by an explicit
# pattern with no locale-dependent field. A campaign the user ended reads `cancelled`; the
# pause fields show only while the campaign runs; absent fields are omitted; the opaque
# objects follow (campaign_extras).
# The opaque objects a body shows as stored (nulls inside kept), in the response model's
# order, each as `,"key":value`; none when together they are larger than 256 KiB (those are
# sent in chunks).
EXTRAS_FUNCTION = """
CREATE FUNCTION campaign_extras(extra_config jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(CASE WHEN octet_length(extra_config::text) <= 262144 THEN (
        SELECT string_agg(',' || to_json(x.key)::text || ':' || x.value::text, ''
                          ORDER BY array_position(ARRAY['assistantOverrides', 'squadOverrides',
                                                        'server', 'serverMessages',
                                                        'predialPlan'], x.key))
        FROM jsonb_each(extra_config) x
        WHERE x.key IN ('assistantOverrides', 'squadOverrides', 'server', 'serverMessages',
                        'predialPlan')
          AND x.value <> 'null'::jsonb) END, '')
$$
"""

FUNCTION = """
CREATE FUNCTION campaign_summary(
    status text, ended_reason text, name text, id uuid, org_id uuid,
    created_at timestamptz, updated_at timestamptz, assistant_id text, squad_id text,
    phone_number_id text, has_schedule_plan boolean, earliest_at timestamptz,
    latest_at timestamptz, max_concurrency integer, calling_window jsonb, retry_plan jsonb,
    paused_at timestamptz, paused_by text, pause_reason text, resumed_at timestamptz,
    extra_config jsonb
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT left(json_strip_nulls(json_build_object(
        'status', CASE WHEN ended_reason IN ('campaign.scheduled.ended-by-user',
                                             'campaign.in-progress.ended-by-user')
                       THEN 'cancelled' ELSE status END,
        'endedReason', ended_reason, 'name', name, 'id', id, 'orgId', org_id,
        'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updatedAt', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'assistantId', assistant_id, 'squadId', squad_id, 'phoneNumberId', phone_number_id,
        'schedulePlan', CASE WHEN has_schedule_plan AND earliest_at IS NOT NULL THEN
            json_build_object(
                'earliestAt', to_char(earliest_at AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'latestAt', to_char(latest_at AT TIME ZONE 'UTC',
                                    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
        'maxConcurrency', max_concurrency, 'callingWindow', calling_window,
        'retryPlan', retry_plan,
        'pausedAt', CASE WHEN paused_at IS NOT NULL AND status = 'in-progress' THEN
            to_char(paused_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
        'pausedBy', CASE WHEN paused_at IS NOT NULL AND status = 'in-progress'
                         THEN paused_by END,
        'pauseReason', CASE WHEN paused_at IS NOT NULL AND status = 'in-progress'
                            THEN pause_reason END,
        'resumedAt', to_char(resumed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    ))::text, -1)
    || campaign_extras(extra_config)
    || '}'
$$
"""

# The v1 body's fields that come from the campaign's own row, in the response model's
# order; the audience, the call map, the counters and the org's dispatch block are added
# when it is read.
HEAD_FUNCTION = """
CREATE FUNCTION campaign_head(
    status text, ended_reason text, name text, assistant_id text, workflow_id text,
    squad_id text, phone_number_id text, has_schedule_plan boolean, earliest_at timestamptz,
    latest_at timestamptz, id uuid, org_id uuid, created_at timestamptz,
    updated_at timestamptz, max_concurrency integer, extra_config jsonb,
    calling_window jsonb, retry_plan jsonb, paused_at timestamptz, paused_by text,
    pause_reason text, resumed_at timestamptz, feasibility jsonb
) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT left(json_strip_nulls(json_build_object(
        'status', status, 'endedReason', ended_reason, 'name', name,
        'assistantId', assistant_id, 'workflowId', workflow_id, 'squadId', squad_id,
        'phoneNumberId', phone_number_id,
        'schedulePlan', CASE WHEN has_schedule_plan AND earliest_at IS NOT NULL THEN
            json_build_object(
                'earliestAt', to_char(earliest_at AT TIME ZONE 'UTC',
                                      'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                'latestAt', to_char(latest_at AT TIME ZONE 'UTC',
                                    'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
        'id', id, 'orgId', org_id,
        'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updatedAt', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'maxConcurrency', max_concurrency
    ))::text, -1)
    || campaign_extras(extra_config)
    || coalesce(',"callingWindow":' || calling_window::text, '')
    || coalesce(',"retryPlan":' || retry_plan::text, '')
    || CASE WHEN paused_at IS NOT NULL AND status = 'in-progress' THEN
            ',"pausedAt":"' || to_char(paused_at AT TIME ZONE 'UTC',
                                       'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"'
            || coalesce(',"pausedBy":' || to_json(paused_by)::text, '')
            || coalesce(',"pauseReason":' || to_json(pause_reason)::text, '')
       ELSE '' END
    || coalesce(',"resumedAt":"' || to_char(resumed_at AT TIME ZONE 'UTC',
                                            'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"', '')
    || coalesce(',"feasibility":' || feasibility::text, '')
    || '}'
$$
"""

HEAD = (
    "campaign_head(status, ended_reason, name, assistant_id, workflow_id, squad_id,"
    " phone_number_id, has_schedule_plan, earliest_at, latest_at, id, org_id, created_at,"
    " updated_at, max_concurrency, extra_config, calling_window, retry_plan, paused_at,"
    " paused_by, pause_reason, resumed_at, feasibility)"
)

SUMMARY = (
    "campaign_summary(status, ended_reason, name, id, org_id, created_at, updated_at,"
    " assistant_id, squad_id, phone_number_id, has_schedule_plan, earliest_at, latest_at,"
    " max_concurrency, calling_window, retry_plan, paused_at, paused_by, pause_reason,"
    " resumed_at, extra_config)"
)


def upgrade() -> None:
    op.execute(EXTRAS_FUNCTION)
    op.execute(FUNCTION)
    op.execute(
        f"ALTER TABLE campaigns ADD COLUMN summary text GENERATED ALWAYS AS ({SUMMARY}) STORED"
    )
    op.execute(HEAD_FUNCTION)
    op.execute(f"ALTER TABLE campaigns ADD COLUMN head text GENERATED ALWAYS AS ({HEAD}) STORED")


def downgrade() -> None:
    op.execute("ALTER TABLE campaigns DROP COLUMN head")
    op.execute("DROP FUNCTION campaign_head")
    op.execute("ALTER TABLE campaigns DROP COLUMN summary")
    op.execute("DROP FUNCTION campaign_summary")
    op.execute("DROP FUNCTION campaign_extras")
