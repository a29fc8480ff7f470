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


def _slot(r: str) -> str:
    """SQL: the contact status of the call record `r`, as its position among the six contact
    counters. (Written out, not a function: a function call per row costs more than the
    expression.)"""
    return f"""CASE
      WHEN {r}.status = 'scheduled' AND {r}.lease_expires_at IS NULL THEN 1
      WHEN {r}.status <> 'ended' THEN 2
      WHEN {r}.skip_reason = 'predial-failed' THEN 6
      WHEN {r}.skip_reason IS NOT NULL THEN 5
      WHEN {r}.started_at IS NOT NULL THEN 3
      WHEN {r}.ended_reason IN ('scheduled-call-deleted',
                                'call.start.error-subscription-concurrency-limit-reached')
        THEN 5
      ELSE 4
    END"""


def _talked(r: str) -> str:
    """SQL: the call record `r` was picked up by a person (voicemail excluded); an ended
    call's history says, so only an ended call is looked up."""
    return f"""CASE
      WHEN {r}.ended_reason IS NOT DISTINCT FROM 'voicemail' THEN false
      WHEN {r}.status IN ('in-progress', 'forwarding') THEN true
      WHEN {r}.status = 'ended' THEN EXISTS (
          SELECT 1 FROM call_events e
          WHERE e.call_id = {r}.id AND e.to_status IN ('in-progress', 'forwarding'))
      ELSE false
    END"""


def _terms(r: str, sign: int) -> str:
    """SQL: what the call record `r` counts for, times `sign`: the row of campaign_id, sign,
    its contact slot, the slot of the attempt it supersedes (NULL for a first attempt), and
    whether it adds the contact to `dialed` and to `connected`."""
    same_contact = (
        f"FROM calls a WHERE a.campaign_id = {r}.campaign_id AND a.position = {r}.position"
    )
    previous = f"(SELECT {_slot('a')} {same_contact} AND a.attempt_number = {r}.attempt_number - 1)"
    earlier = f"SELECT 1 {same_contact} AND a.attempt_number < {r}.attempt_number"
    dialed = (
        f"CASE WHEN {r}.started_at IS NULL THEN 0"
        f" WHEN EXISTS ({earlier} AND a.started_at IS NOT NULL) THEN 0 ELSE 1 END"
    )
    # An earlier attempt has ended, so it talked if its history says so (one lookup, not a
    # lookup within a lookup, which PostgreSQL may run as a scan of all call_events).
    talked_before = (
        f"SELECT 1 FROM calls a JOIN call_events e ON e.call_id = a.id"
        f" WHERE a.campaign_id = {r}.campaign_id AND a.position = {r}.position"
        f" AND a.attempt_number < {r}.attempt_number"
        " AND a.ended_reason IS DISTINCT FROM 'voicemail'"
        " AND e.to_status IN ('in-progress', 'forwarding')"
    )
    connected = f"CASE WHEN NOT {_talked(r)} THEN 0 WHEN EXISTS ({talked_before}) THEN 0 ELSE 1 END"
    return f"{r}.campaign_id, {sign}, {_slot(r)}, {previous}, {dialed}, {connected}"


def _first_terms(r: str, sign: int) -> str:
    """SQL: _terms of a first attempt, which supersedes none and follows none: no lookup."""
    return (
        f"{r}.campaign_id, {sign}, {_slot(r)}, CAST(NULL AS integer),"
        f" CASE WHEN {r}.started_at IS NULL THEN 0 ELSE 1 END,"
        f" CASE WHEN {_talked(r)} THEN 1 ELSE 0 END"
    )


def _firsts(table: str, r: str, sign: int) -> str:
    """SQL: the terms of the first attempts in `table` (as `r`)."""
    return f"SELECT {_first_terms(r, sign)} FROM {table} {r} WHERE {r}.attempt_number = 1"


def _laters(table: str, r: str, sign: int) -> str:
    """SQL: the terms of the later attempts (retries) in `table` (as `r`)."""
    return f"SELECT {_terms(r, sign)} FROM {table} {r} WHERE {r}.attempt_number > 1"


_COLUMNS = ", ".join(COUNTERS)
# Each counter's change from the rows' terms (see _terms).
_SUMS = ", ".join(
    [
        *[
            f"sum(r.sign * ((r.slot = {i})::integer - coalesce((r.previous = {i})::integer, 0)))"
            for i in range(1, 7)
        ],
        "sum(r.sign * r.dialed)",
        "sum(r.sign * r.connected)",
    ]
)
_NONZERO = " OR ".join(f"{c} <> 0" for c in COUNTERS)


def _append(rows_sql: str) -> str:
    """SQL: append each campaign's change (the rows' terms summed), when it changed. (OFFSET
    0 keeps each row's terms computed once, not once per counter.)"""
    return f"""
        INSERT INTO campaign_counts (campaign_id, {_COLUMNS})
        SELECT * FROM (
            SELECT r.campaign_id, {_SUMS}
            FROM ({rows_sql} OFFSET 0)
                AS r (campaign_id, sign, slot, previous, dialed, connected)
            GROUP BY r.campaign_id
        ) AS s (campaign_id, {_COLUMNS})
        WHERE {_NONZERO}"""


# (transition tables, signs) of each event: an updated call counts as its new row minus its
# old one. A call keeps its campaign, position and attempt, so the attempt before it is the
# same on both sides and only the call's own terms can differ. (No join of the two sides: a
# statement's plan is cached with the row count of its first run, and a join planned for one
# row costs n^2 for a batch.)
SIDES = {
    "insert": [("new_rows", "n", 1)],
    "update": [("new_rows", "n", 1), ("old_rows", "o", -1)],
    "delete": [("old_rows", "o", -1)],
}
REFERENCING = {
    "insert": "NEW TABLE AS new_rows",
    "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "OLD TABLE AS old_rows",
}


def _function(event: str) -> str:
    """The trigger function of `event`. First attempts (nearly every row) are counted by a
    statement with no lookup; retries, which need their earlier attempts, by a second one
    that runs only when the statement wrote one. (In one statement, the lookups cost every
    row even where they do not run: measured 10x on a 10,000-row insert.)"""
    sides = SIDES[event]
    firsts = " UNION ALL ".join(_firsts(*side) for side in sides)
    laters = " UNION ALL ".join(_laters(*side) for side in sides)
    table = sides[0][0]
    return f"""
        CREATE FUNCTION campaign_counts_{event}() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            {_append(firsts)};
            IF EXISTS (SELECT 1 FROM {table} WHERE attempt_number > 1) THEN
                {_append(laters)};
            END IF;
            RETURN NULL;
        END
        $$"""


def upgrade() -> None:
    op.create_table(
        "campaign_counts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("campaign_id", UUID(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in COUNTERS],
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_counts")),
    )
    op.create_index("ix_campaign_counts_campaign_id", "campaign_counts", ["campaign_id"])
    for event in SIDES:
        op.execute(_function(event))
        op.execute(
            f"CREATE TRIGGER calls_counts_{event} AFTER {event.upper()} ON calls"
            f" REFERENCING {REFERENCING[event]}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION campaign_counts_{event}()"
        )
    # The calls already there, counted the same way.
    op.execute(_append(_firsts("calls", "n", 1)))
    op.execute(_append(_laters("calls", "n", 1)))


def downgrade() -> None:
    for event in SIDES:
        op.execute(f"DROP TRIGGER calls_counts_{event} ON calls")
        op.execute(f"DROP FUNCTION campaign_counts_{event}()")
    op.drop_index("ix_campaign_counts_campaign_id", table_name="campaign_counts")
    op.drop_table("campaign_counts")
