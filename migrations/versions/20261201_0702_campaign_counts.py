"""Each campaign's v2 counters are kept as they change: every statement that writes `calls`
appends, in its own transaction, one row per campaign it touched with what it changed
(`campaign_counts`: +1/-1 per contact counter), and a read sums a campaign's rows instead of
looking at every one of its calls. Maintenance folds a campaign's rows into one.

A contact is counted once, by its latest attempt; it was dialed (or connected) if any of its
attempts was. Written per call record, so that each statement's change is the sum of its
rows' changes:
- attempt n counts +1 for its own contact status, and (n > 1) -1 for the status of attempt
  n - 1, which it supersedes;
- an attempt counts +1 for `dialed` when it was placed and no earlier attempt was, and the
  same for `connected`.
This holds because an attempt is made only once the one before it has ended, and an ended
call's status, placement and talk never change again (statuses only move forward; a late
report adds its cost or report, not another outcome).

Revision ID: 0702
Revises: 0701
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision: str = "0702"
down_revision: str | None = "0701"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = [
    "pending",
    "dispatched",
    "completed",
    "failed",
    "skipped",
    "predial_failed",
    "dialed",
    "connected",
]

# The contact status of a call record as its position among the six contact counters.
SLOT_FUNCTION = """
CREATE FUNCTION contact_slot(status text, lease_expires_at timestamptz, skip_reason text,
                             started_at timestamptz, ended_reason text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN status = 'scheduled' AND lease_expires_at IS NULL THEN 1
      WHEN status <> 'ended' THEN 2
      WHEN skip_reason = 'predial-failed' THEN 6
      WHEN skip_reason IS NOT NULL THEN 5
      WHEN started_at IS NOT NULL THEN 3
      WHEN ended_reason IN ('scheduled-call-deleted',
                            'call.start.error-subscription-concurrency-limit-reached') THEN 5
      ELSE 4
    END
$$
"""

# 1 when a person picked the call up (voicemail excluded); an ended call's history says.
TALKED_FUNCTION = """
CREATE FUNCTION call_talked(call_id uuid, status text, ended_reason text)
RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
      WHEN ended_reason IS NOT DISTINCT FROM 'voicemail' THEN 0
      WHEN status IN ('in-progress', 'forwarding') THEN 1
      WHEN status = 'ended' AND EXISTS (
          SELECT 1 FROM call_events e
          WHERE e.call_id = call_talked.call_id AND e.to_status IN ('in-progress', 'forwarding'))
        THEN 1
      ELSE 0
    END
$$
"""


def _row_counts(r: str, sign: str) -> str:
    """SQL: the counters (`sign` * what the call record `r` counts for), as the columns of
    campaign_counts after campaign_id. A first attempt needs no lookup."""
    columns = ("status", "lease_expires_at", "skip_reason", "started_at", "ended_reason")
    slot = f"contact_slot({', '.join(f'{r}.{c}' for c in columns)})"
    earlier = (
        f"SELECT 1 FROM calls a WHERE a.campaign_id = {r}.campaign_id"
        f" AND a.position = {r}.position AND a.attempt_number < {r}.attempt_number"
    )
    previous = (
        "(SELECT contact_slot(a.status, a.lease_expires_at, a.skip_reason, a.started_at,"
        f" a.ended_reason) FROM calls a WHERE a.campaign_id = {r}.campaign_id"
        f" AND a.position = {r}.position AND a.attempt_number = {r}.attempt_number - 1)"
    )
    slots = [
        f"{sign} * (({slot} = {i})::integer"
        f" - CASE WHEN {r}.attempt_number > 1 THEN ({previous} IS NOT DISTINCT FROM {i})::integer"
        " ELSE 0 END)"
        for i in range(1, 7)
    ]
    dialed = (
        f"{sign} * CASE WHEN {r}.started_at IS NULL THEN 0 WHEN {r}.attempt_number = 1 THEN 1"
        f" WHEN EXISTS ({earlier} AND a.started_at IS NOT NULL) THEN 0 ELSE 1 END"
    )
    connected = (
        f"{sign} * CASE WHEN call_talked({r}.id, {r}.status, {r}.ended_reason) = 0 THEN 0"
        f" WHEN {r}.attempt_number = 1 THEN 1"
        f" WHEN EXISTS ({earlier} AND call_talked(a.id, a.status, a.ended_reason) = 1) THEN 0"
        " ELSE 1 END"
    )
    return ", ".join([*slots, dialed, connected])


_COLUMNS = ", ".join(COUNTERS)
_SUMS = ", ".join(f"sum({c})::integer" for c in COUNTERS)
_NONZERO = " OR ".join(f"{c} <> 0" for c in COUNTERS)


def _append(rows_sql: str) -> str:
    """SQL: append each campaign's change (the rows' counts summed), when it changed."""
    return f"""
        INSERT INTO campaign_counts (campaign_id, {_COLUMNS})
        SELECT * FROM (
            SELECT campaign_id, {_SUMS} FROM ({rows_sql}) AS r ({"campaign_id, " + _COLUMNS})
            GROUP BY campaign_id
        ) AS s ({"campaign_id, " + _COLUMNS})
        WHERE {_NONZERO}"""


# An updated call counts as its new row minus its old one, when a column its counts depend on
# changed. A call keeps its campaign, position and attempt, so the attempt before it is the
# same on both sides and only the call's own terms can differ.
_UPDATED = f"""
    SELECT n.campaign_id, {_row_counts("n", "1")} FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    WHERE (o.status, o.lease_expires_at IS NULL, o.skip_reason, o.started_at IS NULL,
           o.ended_reason) IS DISTINCT FROM
          (n.status, n.lease_expires_at IS NULL, n.skip_reason, n.started_at IS NULL,
           n.ended_reason)
    UNION ALL
    SELECT o.campaign_id, {_row_counts("o", "-1")} FROM old_rows o
    JOIN new_rows n ON n.id = o.id
    WHERE (o.status, o.lease_expires_at IS NULL, o.skip_reason, o.started_at IS NULL,
           o.ended_reason) IS DISTINCT FROM
          (n.status, n.lease_expires_at IS NULL, n.skip_reason, n.started_at IS NULL,
           n.ended_reason)"""

TRIGGER_FUNCTIONS = {
    "insert": f"SELECT n.campaign_id, {_row_counts('n', '1')} FROM new_rows n",
    "update": _UPDATED,
    "delete": f"SELECT o.campaign_id, {_row_counts('o', '-1')} FROM old_rows o",
}
REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        "campaign_counts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("campaign_id", UUID(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in COUNTERS],
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_counts")),
    )
    op.create_index("ix_campaign_counts_campaign_id", "campaign_counts", ["campaign_id"])
    op.execute(SLOT_FUNCTION)
    op.execute(TALKED_FUNCTION)
    for event, rows_sql in TRIGGER_FUNCTIONS.items():
        op.execute(
            f"""
            CREATE FUNCTION campaign_counts_{event}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                {_append(rows_sql)};
                RETURN NULL;
            END
            $$"""
        )
        op.execute(
            f"CREATE TRIGGER calls_counts_{event} AFTER {event.upper()} ON calls"
            f" REFERENCING {REFERENCING[event]}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_{event}()"
        )
    # The calls already there, counted the same way.
    op.execute(_append(f"SELECT n.campaign_id, {_row_counts('n', '1')} FROM calls n"))


def downgrade() -> None:
    for event in TRIGGER_FUNCTIONS:
        op.execute(f"DROP TRIGGER calls_counts_{event} ON calls")
        op.execute(f"DROP FUNCTION campaign_counts_{event}()")
    op.execute("DROP FUNCTION call_talked(uuid, text, text)")
    op.execute("DROP FUNCTION contact_slot(text, timestamptz, text, timestamptz, text)")
    op.drop_index("ix_campaign_counts_campaign_id", table_name="campaign_counts")
    op.drop_table("campaign_counts")
