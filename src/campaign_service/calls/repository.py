"""Every statement that writes the `calls` table, and the reads the engine claims with.

Writers that change a call's status append its `call_events` history row in the same
statement. Status predicates come from `db.predicates` (generated from `calls.status`), so the
claim counts the same "in flight" the partial indexes are built on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import (
    CANCELLED_BEFORE_PLACED,
    CAPACITY_WINDOW_CLOSED,
    require_known,
)
from campaign_service.calls.outcomes import group_table
from campaign_service.calls.status import CallStatus, SkipReason
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.db import models, outbox
from campaign_service.db import predicates as p
from campaign_service.db.liveness import held_by_a_dead_dispatcher
from campaign_service.db.notify import notify_dispatchers, wake_sql
from campaign_service.readmodel.campaigns import call_entries
from campaign_service.telephony.base import StatusReport

SCHEDULED = CallStatus.SCHEDULED.value
ENDED = CallStatus.ENDED.value
RUNNING = CampaignStatus.IN_PROGRESS.value
_RETRY_REASONS, _RETRY_GROUP_NAMES = group_table()
# Ended without being placed by the engine or the user, not refused by the provider: the
# contact was skipped (its event is contact.skipped, as the v2 contact status says).
UNPLACED_REASONS = [CANCELLED_BEFORE_PLACED, CAPACITY_WINDOW_CLOSED]
# The writers' CTE of the calls they end is named after the status it writes.
_ENDED_CTE = ENDED
# What an ended call's contact event needs (see `db.outbox.contact_events`).
_EVENT_COLUMNS = (
    "k.org_id, k.customer, k.attempt_number, k.contact_id, k.status, k.started_at,"
    " k.ended_reason, k.skip_reason"
)


@dataclass(frozen=True)
class ClaimedCall:
    """A call this dispatcher holds the lease for, with what the provider needs to dial it."""

    call_id: uuid.UUID
    campaign_id: uuid.UUID
    org_id: uuid.UUID
    position: int
    phone_number_id: str
    customer: dict[str, Any]
    attempts: int
    assistant_id: str | None
    workflow_id: str | None
    squad_id: str | None
    extra_config: dict[str, Any]
    # Whether the call could still be dialed when the lease was taken: its campaign running
    # and not paused, the call inside its calling hours. A lease recovered from a dead
    # dispatcher after that stopped being true must not become a new dial.
    campaign_running: bool = True
    # Set when a check right before the dial screened the call out (it must not be dialed).
    screened: SkipReason | None = None
    # Whether the number was on the org's do-not-call list when the lease was taken.
    do_not_call: bool = False
    # When the earliest earlier attempt whose outcome is unknown started (None if none).
    previous_attempt_at: datetime | None = None


@dataclass(frozen=True)
class CallChange:
    """A status change that was written."""

    call_id: uuid.UUID
    campaign_id: uuid.UUID
    org_id: uuid.UUID
    from_status: CallStatus
    to_status: CallStatus


# ---- the audience (while the campaign is scheduled) ----

_INSERT_CALLS = text(
    f"""
    INSERT INTO calls (id, campaign_id, org_id, position, dial_plan_index, phone_number_id,
                       customer, status, created_at, updated_at, time_zones, window_closes_at)
    SELECT gen_random_uuid(), :campaign, :org, (customer.ord - 1)::int, entry.index,
           entry.phone_number_id, customer.value, '{SCHEDULED}', :now, :now,
           string_to_array((CAST(:zones AS text[]))[customer.ord], ','),
           -- With calling hours, the first stretch is computed once the campaign runs.
           CASE WHEN CAST(:zones AS text[]) IS NULL THEN NULL ELSE CAST(:now AS timestamptz) END
    FROM jsonb_array_elements(CAST(:customers AS jsonb)) WITH ORDINALITY AS customer(value, ord)
    JOIN unnest(CAST(:firsts AS int[]), CAST(:lasts AS int[]), CAST(:indexes AS int[]),
                CAST(:numbers AS text[])) AS entry(first, last, index, phone_number_id)
      ON customer.ord - 1 BETWEEN entry.first AND entry.last
    """
)

# The insert that also answers each dial plan entry's audience as a body shows it (the JSON
# array of its customers as stored, the text json_agg makes of them), sliced from the
# customers' array the insert reads (PostgreSQL's own rendering of the same jsonb values):
# the new rows are not scanned and sorted again for it. (Printing the whole array costs less
# than slicing it: a single entry is printed as it is.)
_INSERT_CALLS_AND_AUDIENCES = text(
    f"""
    WITH inserted AS ({_INSERT_CALLS.text})
    SELECT entry.index AS key,
           convert_to(CASE WHEN cardinality(CAST(:firsts AS int[])) = 1
                           THEN CAST(:customers AS jsonb)  -- one entry: all of them
                           ELSE jsonb_path_query_array(
                               CAST(:customers AS jsonb),
                               CAST(format('$[%s to %s]', entry.first, entry.last) AS jsonpath))
                      END::text, 'UTF8') AS json
    FROM unnest(CAST(:firsts AS int[]), CAST(:lasts AS int[]), CAST(:indexes AS int[]))
        AS entry(first, last, index)
    """
)

# The call map of the new calls, rendered right after the insert with the expression the
# read path uses (the same text a GET answers), in runs of CALL_MAP_RUN positions, each its
# own row read along the (campaign, position) index (no sort of the whole map, no single
# 5 MB value). (Rendering it in the insert itself, from its RETURNING rows, is no faster:
# those rows are materialized and sorted.)
CALL_MAP_RUN = 1000
_RUN = (
    "k.campaign_id = :campaign"
    " AND k.position >= r.low AND k.position < r.low + CAST(:run AS integer)"
)
_RENDER_CALL_MAP = text(
    f"""
    SELECT r.low AS key, run.json
    FROM generate_series(0, CAST(:count AS integer) - 1, CAST(:run AS integer)) AS r(low)
    CROSS JOIN LATERAL (
        SELECT convert_to({call_entries(_RUN)}, 'UTF8') AS json) run
    """
)


@dataclass(frozen=True)
class RenderedCalls:
    """New calls as a body shows them: the `calls` map's entries in runs (the map is `{`,
    the runs joined by commas, `}`), and each dial plan entry's audience (`plan_indexes[i]`,
    None without a dial plan) as the JSON array `audiences[i]`."""

    count: int
    call_runs: list[bytes]
    plan_indexes: list[int | None]
    audiences: list[bytes]


def _insert_params(
    *,
    campaign_id: uuid.UUID,
    org_id: uuid.UUID,
    entries: list[dict[str, Any]],
    now: datetime,
    time_zones: Sequence[tuple[str, ...]] | None,
) -> tuple[int, dict[str, Any]]:
    """The number of customers and the parameters of the insert: the customers travel as
    one JSON array, each entry as the range of positions it covers."""
    firsts, lasts, indexes, numbers, texts = [], [], [], [], []
    count = 0
    for entry in entries:
        size = entry["size"] if "customersJson" in entry else len(entry["customers"])
        if not size:
            continue
        firsts.append(count)
        count += size
        lasts.append(count - 1)
        indexes.append(entry["index"])
        numbers.append(entry["phoneNumberId"])
        texts.append(entry.get("customersJson") or orjson.dumps(entry["customers"]))
    if len(texts) > 1:  # the entries' arrays as one
        texts = [b"[" + b",".join(t[1:-1] for t in texts) + b"]"]
    params = {
        "campaign": campaign_id,
        "org": org_id,
        "customers": texts[0].decode() if texts else "[]",
        "firsts": firsts,
        "lasts": lasts,
        "indexes": indexes,
        "numbers": numbers,
        "now": now,
        "zones": None if time_zones is None else [",".join(z) for z in time_zones],
    }
    return count, params


async def insert_calls(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    org_id: uuid.UUID,
    entries: list[dict[str, Any]],
    now: datetime,
    time_zones: Sequence[tuple[str, ...]] | None = None,
) -> None:
    """One call row per customer, numbered in upload (= dial) order across the entries.

    `entries` are `{"index": dial-plan index or None, "phoneNumberId": ..., "customers": [...]}`
    (or, instead of "customers", their JSON array as "customersJson" and their number "size").
    All customers travel as one JSON array, and each entry as the range of positions it
    covers; PostgreSQL expands them in a single statement. With calling hours, `time_zones`
    gives each customer's zones, in the same order.
    """
    count, params = _insert_params(
        campaign_id=campaign_id, org_id=org_id, entries=entries, now=now, time_zones=time_zones
    )
    if count:
        await session.execute(_INSERT_CALLS, params)


async def insert_and_render_calls(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    org_id: uuid.UUID,
    entries: list[dict[str, Any]],
    now: datetime,
    time_zones: Sequence[tuple[str, ...]] | None = None,
) -> RenderedCalls:
    """`insert_calls`, then the new calls as a body shows them (a new campaign's create
    answer is built from them), in one more statement."""
    count, params = _insert_params(
        campaign_id=campaign_id, org_id=org_id, entries=entries, now=now, time_zones=time_zones
    )
    rendered = RenderedCalls(count, [], [], [])
    if not count:
        return rendered
    audiences = [
        (-1 if row.key is None else row.key, bytes(row.json))
        for row in await session.execute(_INSERT_CALLS_AND_AUDIENCES, params)
    ]
    del params  # the customers' JSON can go before the rendered calls come
    rows = await session.execute(
        _RENDER_CALL_MAP, {"campaign": campaign_id, "count": count, "run": CALL_MAP_RUN}
    )
    runs = sorted((row.key, bytes(row.json)) for row in rows if row.json)
    audiences.sort(key=lambda audience: audience[0])
    rendered.call_runs.extend(json for _, json in runs)
    rendered.plan_indexes.extend(None if key < 0 else key for key, _ in audiences)
    rendered.audiences.extend(json for _, json in audiences)
    return rendered


async def delete_unplaced_calls(session: AsyncSession, *, campaign_id: uuid.UUID) -> None:
    """Drop a scheduled campaign's audience (nothing of it has been dialed yet)."""
    await session.execute(
        text(f"DELETE FROM calls WHERE campaign_id = :c AND {p.waiting()}"), {"c": campaign_id}
    )


async def set_phone_number(
    session: AsyncSession, *, campaign_id: uuid.UUID, phone_number_id: str, now: datetime
) -> None:
    """Call every customer of a scheduled campaign from this one number."""
    await session.execute(
        text(
            "UPDATE calls SET phone_number_id = :number, dial_plan_index = NULL, updated_at = :now"
            " WHERE campaign_id = :c"
        ),
        {"c": campaign_id, "number": phone_number_id, "now": now},
    )


# ---- claims: what the dispatcher leases, under the concurrency limits ----


def _lock_org_sql(wait: bool) -> Any:
    return text(
        f"""
        WITH due AS (
            SELECT o.id FROM orgs o
            WHERE o.dispatch_blocked_reason IS NULL AND o.id <> ALL(CAST(:skip AS uuid[]))
              AND o.id IN (
                SELECT c.org_id FROM campaigns c
                WHERE c.status = '{RUNNING}' AND c.paused_at IS NULL AND EXISTS (
                    SELECT 1 FROM calls k WHERE k.campaign_id = c.id AND {p.callable_now("k")}))
        ), locked AS (
            SELECT o.id, o.concurrency_limit FROM orgs o
            WHERE o.id IN (SELECT id FROM due) AND o.dispatch_blocked_reason IS NULL
            LIMIT 1 FOR UPDATE OF o{"" if wait else " SKIP LOCKED"}
        )
        SELECT (SELECT id FROM locked) AS id,
               (SELECT concurrency_limit FROM locked) AS concurrency_limit,
               (SELECT count(*) FROM due) AS due
        """
    )


_LOCK_ORG = {wait: _lock_org_sql(wait) for wait in (False, True)}


@dataclass(frozen=True)
class OrgToClaim:
    """The org whose row `lock_org_to_claim` locked (None if none), and how many orgs had
    calls to claim (if some and none was locked, other claims held them all)."""

    org_id: uuid.UUID | None
    concurrency_limit: int
    due: int


async def lock_org_to_claim(
    session: AsyncSession, *, now: datetime, skip: Sequence[uuid.UUID] = (), wait: bool = False
) -> OrgToClaim:
    """Lock the row of an org that has a running campaign with a call ready to be claimed
    (claims for one org are serialised on it), not one in `skip` (those done this pass).
    Orgs whose dispatch is blocked (the provider refused their credentials) are passed over;
    so are orgs another dispatcher is claiming for right now, unless `wait`: then this waits
    for that claim to commit.

    Counts taken by the next statement of the transaction (`claim_due_calls`) see every
    claim committed before this lock was granted."""
    row = (await session.execute(_LOCK_ORG[wait], {"now": now, "skip": list(skip)})).one()
    return OrgToClaim(row.id, int(row.concurrency_limit or 0), int(row.due))


async def claim_due_calls(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    org_limit: int,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[ClaimedCall]:
    """Lease as many due calls of one org as its limits allow (at most `limit`), in one
    statement; the org's row must be locked by this transaction (`lock_org_to_claim`).

    The org's free slots (its limit less its calls in flight) are dealt to its running
    campaigns round-robin, oldest campaign first, each up to its own free slots
    (maxConcurrency less its calls in flight); each campaign's share is its next waiting
    calls in position (dial) order. FOR SHARE on the campaigns: a user ending or pausing one
    (FOR UPDATE) waits for this claim, or this claim waits for the end or pause and then sees
    the campaign is no longer dialing. Every campaign row is locked before any call row."""
    picked = f"""
        WITH running AS (
            SELECT id, max_concurrency, started_at FROM campaigns
            WHERE org_id = :org AND status = '{RUNNING}' AND paused_at IS NULL
            ORDER BY id FOR SHARE  -- in id order, as moves of several campaigns lock them
        ), busy AS (
            SELECT campaign_id, count(*) AS n FROM calls
            WHERE org_id = :org AND {p.in_flight()} GROUP BY campaign_id
        ), free AS (
            SELECT GREATEST(0, LEAST(:org_limit - (SELECT COALESCE(sum(n), 0) FROM busy),
                                     :limit))::int AS n
        ), shares AS (
            SELECT id AS campaign_id, count(*)::int AS n FROM (
                SELECT r.id FROM running r LEFT JOIN busy b ON b.campaign_id = r.id
                CROSS JOIN LATERAL generate_series(
                    1, LEAST(r.max_concurrency - COALESCE(b.n, 0), (SELECT n FROM free))
                ) AS s(round)
                ORDER BY s.round, r.started_at, r.id LIMIT (SELECT n FROM free)
            ) slot GROUP BY id
        )
        SELECT due.id FROM shares CROSS JOIN LATERAL (
            SELECT id FROM calls
            WHERE campaign_id = shares.campaign_id AND {p.callable_now()}
            ORDER BY position LIMIT shares.n FOR UPDATE SKIP LOCKED
        ) due
    """
    params = {"org": org_id, "org_limit": org_limit, "limit": limit}
    return await _lease(session, picked, params, owner=owner, now=now, lease_until=lease_until)


_CLAIM_COLUMNS = f"""
    k.id, k.campaign_id, k.org_id, k.position, k.phone_number_id, k.customer, k.attempts,
    c.assistant_id, c.workflow_id, c.squad_id, c.extra_config,
    (c.status = '{RUNNING}' AND c.paused_at IS NULL
     AND (k.window_closes_at IS NULL OR k.window_closes_at > :now)) AS campaign_running,
    EXISTS (SELECT 1 FROM dnc_numbers d
            WHERE d.org_id = k.org_id AND d.number = k.customer ->> 'number') AS do_not_call
"""


def _claimed(rows: Sequence[Any]) -> list[ClaimedCall]:
    return sorted(
        (
            ClaimedCall(
                call_id=r.id,
                campaign_id=r.campaign_id,
                org_id=r.org_id,
                position=r.position,
                phone_number_id=r.phone_number_id,
                customer=r.customer,
                attempts=r.attempts,
                assistant_id=r.assistant_id,
                workflow_id=r.workflow_id,
                squad_id=r.squad_id,
                extra_config=r.extra_config or {},
                campaign_running=r.campaign_running,
                do_not_call=r.do_not_call,
                previous_attempt_at=getattr(r, "previous_attempt_at", None),
            )
            for r in rows
        ),
        key=lambda c: (c.campaign_id, c.position),
    )


async def _lease(
    session: AsyncSession,
    picked_sql: str,
    params: dict[str, Any],
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
) -> list[ClaimedCall]:
    """Lease the calls `picked_sql` selects. The attempt (attempts + 1, lease) is committed
    before the provider is called, so a crash mid-dial leaves a visible, recoverable trace.
    `last_attempt_at` keeps the start of the earliest attempt whose outcome is still unknown
    (a release, which proves nothing was placed, clears it); each call comes back with its
    value from before this attempt (read from the statement's snapshot, which the update does
    not change): a provider looks for calls created since then before it dials again."""
    rows = await session.execute(
        text(
            f"""
            WITH picked AS ({picked_sql}), k AS (
                UPDATE calls SET lease_owner = :owner, lease_expires_at = :until,
                                 attempts = attempts + 1,
                                 last_attempt_at = COALESCE(last_attempt_at, :now),
                                 updated_at = :now
                WHERE id IN (SELECT id FROM picked)
                RETURNING *
            )
            SELECT {_CLAIM_COLUMNS},
                   (SELECT o.last_attempt_at FROM calls o WHERE o.id = k.id)
                       AS previous_attempt_at
            FROM k JOIN campaigns c ON c.id = k.campaign_id
            """
        ),
        {**params, "owner": owner, "now": now, "until": lease_until},
    )
    return _claimed(rows.all())


async def lease_due_calls(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    count: int,
    owner: str,
    now: datetime,
    lease_until: datetime,
) -> list[ClaimedCall]:
    """Lease the campaign's next `count` waiting calls, in position (dial) order."""
    picked = f"""
        SELECT id FROM calls
        WHERE campaign_id = :campaign AND {p.callable_now()}
        ORDER BY position LIMIT :count FOR UPDATE SKIP LOCKED
    """
    params = {"campaign": campaign_id, "count": count}
    return await _lease(session, picked, params, owner=owner, now=now, lease_until=lease_until)


async def recover_abandoned_leases(
    session: AsyncSession, *, owner: str, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedCall]:
    """Take over calls whose dispatcher died mid-dial: its liveness lock is gone (seconds after
    its death), or its lease expired. They already hold their slot. If their campaign is still
    running they are placed again with the same idempotency key (a dial that reached the
    provider is not repeated); if it ended, they are only looked up (`campaign_running`).

    FOR SHARE on the campaign: a user ending it either commits first (then this reads it
    ended) or waits until this lease is committed."""
    picked = f"""
        SELECT k.id FROM calls k JOIN campaigns c ON c.id = k.campaign_id
        WHERE {p.status_is("k.status", CallStatus.SCHEDULED)} AND k.lease_expires_at IS NOT NULL
          AND (k.lease_expires_at < :now OR {held_by_a_dead_dispatcher("k.lease_owner")})
        ORDER BY k.lease_expires_at LIMIT :limit
        FOR UPDATE OF k SKIP LOCKED FOR SHARE OF c
    """
    params = {"limit": limit}
    return await _lease(session, picked, params, owner=owner, now=now, lease_until=lease_until)


_RELEASE = text(
    f"""
    WITH target AS (
        -- FOR SHARE on the campaign: a user ending it either finishes first (then this sees
        -- it ended) or waits for this release (then its own sweep of waiting calls sees it).
        SELECT k.id, c.status AS campaign_status
        FROM calls k JOIN campaigns c ON c.id = k.campaign_id
        WHERE k.id = ANY(:ids) AND k.lease_owner = :owner AND k.status = '{SCHEDULED}'
        ORDER BY k.id FOR UPDATE OF k FOR SHARE OF c
    ), released AS (
        UPDATE calls k SET lease_owner = NULL, lease_expires_at = NULL,
                           next_attempt_at = :retry_at, last_attempt_at = NULL,
                           updated_at = :now
        FROM target t WHERE k.id = t.id AND t.campaign_status = '{RUNNING}'
        RETURNING k.id
    ), ended AS (
        UPDATE calls k SET status = '{ENDED}', ended_reason = :reason, ended_at = :now,
                           lease_owner = NULL, lease_expires_at = NULL,
                           next_attempt_at = NULL, updated_at = :now
        FROM target t WHERE k.id = t.id AND t.campaign_status <> '{RUNNING}'
        RETURNING k.id, k.campaign_id, {_EVENT_COLUMNS}
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :reason, 'engine', :now FROM ended
    ), {outbox.contact_events("outboxed", _ENDED_CTE)}
    SELECT (SELECT count(*) FROM released) AS released, (SELECT count(*) FROM ended) AS ended
    """
)


async def release_for_retry(
    session: AsyncSession,
    *,
    call_ids: Sequence[uuid.UUID],
    owner: str,
    retry_at: datetime,
    now: datetime,
) -> None:
    """The provider had no capacity: give the slots back and try these calls again later.
    A call whose campaign ended meanwhile is ended here instead (it will never be placed)."""
    if not call_ids:
        return
    await session.execute(
        _RELEASE,
        {
            "ids": list(call_ids),
            "owner": owner,
            "retry_at": retry_at,
            "now": now,
            "reason": CANCELLED_BEFORE_PLACED,
            "unplaced_reasons": UNPLACED_REASONS,
        },
    )


_END_SCREENED = text(
    f"""
    WITH screened AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:reasons AS text[])) AS s(id, reason)
    ), ended AS (
        UPDATE calls k SET status = '{ENDED}', ended_reason = :ended_reason, ended_at = :now,
                           skip_reason = s.reason, lease_owner = NULL,
                           lease_expires_at = NULL, next_attempt_at = NULL, updated_at = :now
        FROM screened s
        WHERE k.id = s.id AND k.lease_owner = :owner AND k.status = '{SCHEDULED}'
        RETURNING k.id, k.campaign_id, {_EVENT_COLUMNS}
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :ended_reason, 'engine', :now
        FROM ended
    ), {outbox.contact_events("outboxed", _ENDED_CTE)}
    SELECT DISTINCT org_id FROM ended
    """
)


async def end_screened_calls(
    session: AsyncSession,
    *,
    screened: Sequence[tuple[uuid.UUID, SkipReason]],
    owner: str,
    now: datetime,
) -> None:
    """End leased calls that a check screened out right before their dial: they were never
    placed (endedReason scheduled-call-deleted) and `skip_reason` says why."""
    if not screened:
        return
    orgs = await session.execute(
        _END_SCREENED,
        {
            "ids": [call_id for call_id, _ in screened],
            "reasons": [reason.value for _, reason in screened],
            "ended_reason": CANCELLED_BEFORE_PLACED,
            "owner": owner,
            "now": now,
            "unplaced_reasons": UNPLACED_REASONS,
        },
    )
    for org_id in orgs.scalars():  # their slots are free again
        await notify_dispatchers(session, org_id)


# ---- status changes ----

# The next attempt at a contact whose call just ended with an outcome its campaign's retry
# plan retries (extension). Written by the statement that ends the call, so a crash can
# neither lose it nor make it twice; the delay is `retry_plan.delay.seconds`, doubled per
# attempt already made when the delay type is `backoff` (see campaigns/retries.py). FOR SHARE
# on the campaign: a user ending it either commits first (then no retry is made) or waits
# for this statement (then its sweep of waiting calls ends the retry too).
_NEXT_ATTEMPTS = f"""
    retry_groups AS (
        SELECT * FROM unnest(CAST(:retry_reasons AS text[]), CAST(:retry_groups AS text[]))
                      AS g(reason, grp)
    ), retrying AS (
        SELECT ch.id, c.retry_plan AS plan, c.calling_window IS NOT NULL AS windowed
        FROM changed ch JOIN campaigns c ON c.id = ch.campaign_id
        WHERE ch.to_status = '{ENDED}' AND c.status = '{RUNNING}' AND c.retry_plan IS NOT NULL
          AND EXISTS (SELECT 1 FROM retry_groups g WHERE g.reason = ch.reason
                      AND c.retry_plan -> 'retryOn' @> jsonb_build_array(g.grp))
        FOR SHARE OF c
    ), next_attempts AS (
        INSERT INTO calls (id, campaign_id, org_id, position, dial_plan_index, phone_number_id,
                           customer, status, created_at, updated_at, attempt_number,
                           contact_id, time_zones, next_attempt_at, capacity_since,
                           window_closes_at)
        SELECT gen_random_uuid(), k.campaign_id, k.org_id, k.position, k.dial_plan_index,
               k.phone_number_id, k.customer, '{SCHEDULED}', :now, :now, k.attempt_number + 1,
               COALESCE(k.contact_id, k.id), k.time_zones, due.at, due.at,
               CASE WHEN r.windowed THEN CAST(:now AS timestamptz) END
        FROM calls k JOIN retrying r ON r.id = k.id
        CROSS JOIN LATERAL (SELECT CAST(:now AS timestamptz) + make_interval(secs =>
            (r.plan -> 'delay' ->> 'seconds')::float8
            * CASE WHEN r.plan -> 'delay' ->> 'type' = 'backoff'
                   THEN power(2, k.attempt_number - 1) ELSE 1 END) AS at) due
        WHERE k.attempt_number < (r.plan ->> 'maxAttempts')::int
        ON CONFLICT DO NOTHING
    )"""

# A call's reports in one batch are applied in order, each to the call as the one before it
# left it (`fold`, one recursion step per report of a call: the same effect as applying them
# one at a time, in one statement). Step 0 is the call as locked; step n applies the call's
# n-th report (`steps`, 1-based), `last` marks its final one. A report that would not move
# its call forward still keeps what the provider said (an end-of-call report arriving after
# the call was already reported ended); one that says nothing new (`writes` false) leaves the
# call as it was. The call's row is written once, with its final step, if any step wrote.
_FOLD_STEP = f"""
    SELECT f.id, r.step, r.ord, r.last, m.advances, m.writes, f.status AS from_status,
           r.reason,
           CASE WHEN m.advances THEN r.status ELSE f.status END,
           CASE WHEN m.advances AND r.status = '{ENDED}' THEN r.reason ELSE f.ended_reason END,
           CASE WHEN m.advances AND r.status = '{ENDED}' THEN r.at ELSE f.ended_at END,
           CASE WHEN NOT m.advances THEN f.started_at
                WHEN r.status = '{ENDED}' AND f.status = '{SCHEDULED}' THEN f.started_at
                ELSE COALESCE(f.started_at, r.at) END,
           CASE WHEN NOT m.writes THEN f.provider_call_id
                WHEN m.advances THEN COALESCE(r.provider_call_id, f.provider_call_id)
                ELSE COALESCE(f.provider_call_id, r.provider_call_id) END,
           COALESCE(r.provider_error, f.provider_error), COALESCE(r.cost, f.cost),
           COALESCE(CAST(r.end_report AS jsonb), f.end_report),
           f.advanced OR m.advances, f.heard OR r.heard, f.wrote OR m.writes
    FROM fold f JOIN report r ON r.call_id = f.id AND r.step = f.step + 1
    CROSS JOIN LATERAL (
        SELECT a.advances, a.advances OR r.heard OR r.provider_error IS NOT NULL
               OR r.cost IS NOT NULL OR r.end_report IS NOT NULL AS writes
        FROM (SELECT {p.rank("f.status")} < {p.rank("r.status")} AS advances) a) m"""

_APPLY = text(
    f"""
    WITH RECURSIVE report AS (
        SELECT * FROM unnest(CAST(:call_ids AS uuid[]), CAST(:steps AS int[]),
                             CAST(:lasts AS boolean[]), CAST(:statuses AS text[]),
                             CAST(:reasons AS text[]), CAST(:ats AS timestamptz[]),
                             CAST(:provider_call_ids AS text[]),
                             CAST(:provider_errors AS text[]), CAST(:costs AS float8[]),
                             CAST(:end_reports AS text[]), CAST(:heard AS boolean[]))
                      WITH ORDINALITY
                      AS e(call_id, step, last, status, reason, at, provider_call_id,
                           provider_error, cost, end_report, heard, ord)
    ), current AS (
        -- Lock in ID order so two batches touching the same calls cannot deadlock.
        SELECT c.id, c.campaign_id, c.org_id, c.status, c.ended_reason, c.ended_at,
               c.started_at, c.provider_call_id, c.provider_error, c.cost, c.end_report,
               c.customer, c.attempt_number, c.contact_id, c.skip_reason
        FROM calls c WHERE c.id = ANY(CAST(:call_ids AS uuid[]))
        ORDER BY c.id FOR UPDATE OF c
    ), fold (id, step, ord, last, advances, writes, from_status, reason, status,
             ended_reason, ended_at, started_at, provider_call_id, provider_error, cost,
             end_report, advanced, heard, wrote) AS (
        SELECT id, 0, CAST(0 AS bigint), false, false, false, CAST(NULL AS text),
               CAST(NULL AS text), CAST(status AS text), ended_reason, ended_at, started_at,
               provider_call_id, provider_error, cost, end_report, false, false, false
        FROM current
        UNION ALL {_FOLD_STEP}
    ), written AS (
        UPDATE calls AS c SET
            status = f.status, ended_reason = f.ended_reason, ended_at = f.ended_at,
            started_at = f.started_at, provider_call_id = f.provider_call_id,
            lease_owner = CASE WHEN f.advanced THEN NULL ELSE c.lease_owner END,
            lease_expires_at = CASE WHEN f.advanced THEN NULL ELSE c.lease_expires_at END,
            next_attempt_at = CASE WHEN f.advanced THEN NULL ELSE c.next_attempt_at END,
            provider_error = f.provider_error, cost = f.cost, end_report = f.end_report,
            reported_at = CASE WHEN f.heard THEN :now ELSE c.reported_at END,
            updated_at = :now
        FROM fold f
        WHERE c.id = f.id AND f.last AND f.wrote
    ), changed AS (
        -- Each step that moved its call forward, with the call as that step left it.
        SELECT f.id, k.campaign_id, k.org_id, f.from_status, f.status AS to_status, f.reason,
               f.step, f.ord, k.customer, k.attempt_number, k.contact_id, f.status,
               f.started_at, f.ended_reason, k.skip_reason
        FROM fold f JOIN current k ON k.id = f.id
        WHERE f.advances
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, from_status, to_status, reason, :source, :now FROM changed
        ORDER BY step, ord
    ), reported AS (
        -- Events only for a call's dispatch (its first step off scheduled) and its end.
        SELECT * FROM changed
        WHERE to_status = '{ENDED}' OR from_status = '{SCHEDULED}'
    ), {outbox.contact_events("outboxed", "reported", "x.step, x.ord")}, {_NEXT_ATTEMPTS},
    woken AS (
        -- Each ended call frees a slot: wake the dispatchers (delivered at commit, once per
        -- org). Read by the final SELECT, so it runs whenever a call changed.
        SELECT {wake_sql("o.org_id")} FROM (
            SELECT DISTINCT org_id FROM changed WHERE to_status = '{ENDED}') o
    )
    SELECT id, campaign_id, org_id, from_status, to_status,
           (SELECT count(*) FROM woken) AS woken
    FROM changed
    ORDER BY step, ord
    """
)


def _steps(reports: Sequence[StatusReport]) -> tuple[list[int], list[bool]]:
    """Each report's place among its call's reports (1-based), and whether it is the last."""
    counts: dict[uuid.UUID, int] = {}
    steps: list[int] = []
    for report in reports:
        counts[report.call_id] = counts.get(report.call_id, 0) + 1
        steps.append(counts[report.call_id])
    return steps, [step == counts[r.call_id] for r, step in zip(reports, steps, strict=True)]


async def apply_status_reports(
    session: AsyncSession, reports: Sequence[StatusReport], *, source: str, now: datetime
) -> list[CallChange]:
    """Apply reports in order (set-based, one statement); returns the changes made, in the
    order they were made. A report that would not move its call forward, repeats an earlier
    one, or names an unknown call changes nothing. Several reports of one call have the same
    effect as applying them one at a time. This is the one path every status report takes,
    whatever the provider."""
    if not reports:
        return []
    steps, lasts = _steps(reports)
    result = await session.execute(
        _APPLY,
        {
            "call_ids": [r.call_id for r in reports],
            "steps": steps,
            "lasts": lasts,
            "statuses": [r.status.value for r in reports],
            "reasons": [r.ended_reason for r in reports],
            "ats": [r.occurred_at or now for r in reports],
            "provider_call_ids": [r.provider_call_id for r in reports],
            "provider_errors": [r.provider_error for r in reports],
            "costs": [r.cost for r in reports],
            "end_reports": [
                None if r.end_report is None else orjson.dumps(r.end_report).decode()
                for r in reports
            ],
            "heard": [r.heard for r in reports],
            "source": source,
            "now": now,
            "retry_reasons": _RETRY_REASONS,
            "retry_groups": _RETRY_GROUP_NAMES,
            "unplaced_reasons": UNPLACED_REASONS,
        },
    )
    return [
        CallChange(
            call_id=row.id,
            campaign_id=row.campaign_id,
            org_id=row.org_id,
            from_status=CallStatus(row.from_status),
            to_status=CallStatus(row.to_status),
        )
        for row in result
    ]


_END_UNPLACED = text(
    f"""
    WITH ended AS (
        UPDATE calls SET status = '{ENDED}', ended_reason = :reason, ended_at = :now,
                         next_attempt_at = NULL, updated_at = :now
        WHERE campaign_id = ANY(:campaigns) AND {p.waiting()}
        RETURNING id, campaign_id, {_EVENT_COLUMNS.replace("k.", "")}
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :reason, :source, :now FROM ended
    ), {outbox.contact_events("outboxed", _ENDED_CTE)}
    SELECT count(*) FROM ended
    """
)


async def end_unplaced_calls(
    session: AsyncSession,
    *,
    campaign_ids: Sequence[uuid.UUID],
    ended_reason: str,
    source: str,
    now: datetime,
) -> int:
    """End every waiting (never placed, not being dialed) call of these campaigns at once;
    returns how many were ended. For the user's cancellation and a closed capacity window."""
    if not campaign_ids:
        return 0
    result = await session.execute(
        _END_UNPLACED,
        {
            "campaigns": list(campaign_ids),
            "reason": require_known(ended_reason),
            "source": source,
            "now": now,
            "unplaced_reasons": UNPLACED_REASONS,
        },
    )
    return int(result.scalar_one())


# ---- calling hours and the capacity window (extensions) ----


@dataclass(frozen=True)
class WindowGroup:
    """Waiting calls of one campaign that need their next stretch of calling hours, alike in
    zones and in the earliest moment they may be called (`from_at`)."""

    campaign_id: uuid.UUID
    calling_window: dict[str, Any]
    time_zones: tuple[str, ...]
    from_at: datetime
    calls: int


async def windows_to_roll(session: AsyncSession, *, now: datetime) -> list[WindowGroup]:
    """Groups of waiting calls of running campaigns whose stretch of calling hours closed
    (or was never computed)."""
    rows = await session.execute(
        text(
            f"""
            SELECT k.campaign_id, c.calling_window, k.time_zones,
                   GREATEST(k.next_attempt_at, :now) AS from_at, count(*) AS calls
            FROM calls k JOIN campaigns c ON c.id = k.campaign_id
            WHERE {p.window_to_roll("k")} AND c.status = '{RUNNING}'
              AND c.calling_window IS NOT NULL
            GROUP BY 1, 2, 3, 4
            """
        ),
        {"now": now},
    )
    return [
        WindowGroup(r.campaign_id, r.calling_window, tuple(r.time_zones or ()), r.from_at, r.calls)
        for r in rows
    ]


_ROLL = text(
    f"""
    WITH plan AS (
        SELECT * FROM unnest(CAST(:campaigns AS uuid[]), CAST(:zones AS text[]),
                             CAST(:froms AS timestamptz[]), CAST(:opens AS timestamptz[]),
                             CAST(:closes AS timestamptz[]))
                      AS p(campaign_id, zones, from_at, opens, closes)
    ), target AS (
        SELECT k.id, p.opens, p.closes FROM calls k JOIN plan p
          ON k.campaign_id = p.campaign_id AND array_to_string(k.time_zones, ',') = p.zones
         AND GREATEST(k.next_attempt_at, :now) = p.from_at
        WHERE {p.window_to_roll("k")}
        ORDER BY k.id FOR UPDATE OF k SKIP LOCKED
    ), rolled AS (
        UPDATE calls k SET next_attempt_at = t.opens, window_closes_at = t.closes,
                           capacity_since = t.opens, updated_at = :now
        FROM target t WHERE k.id = t.id AND t.opens IS NOT NULL
        RETURNING k.id
    ), ended AS (
        UPDATE calls k SET status = '{ENDED}', ended_reason = :ended_reason, ended_at = :now,
                           skip_reason = :skip_reason, next_attempt_at = NULL,
                           window_closes_at = NULL, updated_at = :now
        FROM target t WHERE k.id = t.id AND t.opens IS NULL
        RETURNING k.id, k.campaign_id, {_EVENT_COLUMNS}
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :ended_reason, 'engine', :now
        FROM ended
    ), {outbox.contact_events("outboxed", _ENDED_CTE)}
    SELECT (SELECT count(*) FROM rolled) AS rolled, (SELECT count(*) FROM ended) AS ended
    """
)


async def roll_windows(
    session: AsyncSession,
    *,
    plan: Sequence[tuple[WindowGroup, tuple[datetime, datetime] | None]],
    now: datetime,
) -> tuple[int, int]:
    """Give each group its next stretch of calling hours (they become claimable when it
    opens, and their capacity clock starts then). A group whose zones share no calling hours
    is ended unplaced (skipReason no-calling-hours). Returns (rolled, ended)."""
    if not plan:
        return 0, 0
    row = (
        await session.execute(
            _ROLL,
            {
                "campaigns": [g.campaign_id for g, _ in plan],
                "zones": [",".join(g.time_zones) for g, _ in plan],
                "froms": [g.from_at for g, _ in plan],
                "opens": [None if w is None else w[0] for _, w in plan],
                "closes": [None if w is None else w[1] for _, w in plan],
                "now": now,
                "ended_reason": CANCELLED_BEFORE_PLACED,
                "skip_reason": SkipReason.NO_CALLING_HOURS.value,
                "unplaced_reasons": UNPLACED_REASONS,
            },
        )
    ).one()
    return int(row.rolled), int(row.ended)


# Driven by the campaigns whose clock can have run out (their latestAt passed, or they run
# unpaused since before the cutoff), so a pass reads only their waiting calls, not every
# waiting call of every running campaign (a backlog is read four times a second).
_END_PAST_CAPACITY = text(
    f"""
    WITH lapsing AS MATERIALIZED (
        SELECT c.id, c.latest_at <= :now AS past_latest FROM campaigns c
        WHERE c.status = '{RUNNING}'
          AND (c.latest_at <= :now OR (c.paused_at IS NULL AND c.started_at <= :cutoff))
    ), expired AS (
        SELECT k.id FROM lapsing c JOIN calls k ON k.campaign_id = c.id
        WHERE {p.waiting("k")}
          AND (c.past_latest
               OR ((k.capacity_since IS NULL OR k.capacity_since <= :cutoff)
                   AND (k.window_closes_at IS NULL OR k.window_closes_at > :now)))
        ORDER BY k.id FOR UPDATE OF k SKIP LOCKED
    ), ended AS (
        UPDATE calls k SET status = '{ENDED}', ended_reason = :reason, ended_at = :now,
                           next_attempt_at = NULL, window_closes_at = NULL, updated_at = :now
        FROM expired e WHERE k.id = e.id
        RETURNING k.id, k.campaign_id, {_EVENT_COLUMNS}
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :reason, 'engine', :now FROM ended
    ), {outbox.contact_events("outboxed", _ENDED_CTE)}
    SELECT count(*) FROM ended
    """
)


async def end_calls_past_capacity_window(
    session: AsyncSession, *, now: datetime, window_seconds: float
) -> int:
    """End (never placed, endedReason concurrency-limit-reached) the waiting calls whose
    capacity window closed: `window_seconds` after they became callable (their campaign's
    start, their retry time, the opening of their calling hours or the campaign's resume,
    whichever is latest), or their campaign's latestAt. A paused campaign's clock stands
    still (its resume restarts it); calls outside their calling hours do not wait for a slot."""
    result = await session.execute(
        _END_PAST_CAPACITY,
        {
            "now": now,
            "cutoff": now - timedelta(seconds=window_seconds),
            "reason": CAPACITY_WINDOW_CLOSED,
            "unplaced_reasons": UNPLACED_REASONS,
        },
    )
    return int(result.scalar_one())


async def restart_capacity_clock(
    session: AsyncSession, *, campaign_id: uuid.UUID, now: datetime
) -> None:
    """A resumed campaign's waiting calls start a fresh capacity window now (a retry still
    due later keeps its own, later start)."""
    await session.execute(
        text(
            f"UPDATE calls SET capacity_since = GREATEST(capacity_since, :now)"
            f" WHERE campaign_id = :c AND {p.waiting()}"
        ),
        {"c": campaign_id, "now": now},
    )


# ---- following placed calls at the provider ----


async def calls_by_provider_ids(
    session: AsyncSession, *, org_id: uuid.UUID, wanted: Sequence[tuple[str, uuid.UUID | None]]
) -> dict[str, uuid.UUID]:
    """Our call for each (provider call ID, tagged call ID) the provider reported, within one
    org: matched by the provider call ID, or, before that ID is stored (a report can overtake
    the answer to the dial), by the tag on a call of this org that has no provider call ID."""
    if not wanted:
        return {}
    rows = await session.execute(
        text(
            """
            SELECT w.provider_call_id AS wanted, k.id FROM unnest(
                CAST(:provider_ids AS text[]), CAST(:tags AS uuid[])) AS w(provider_call_id, tag)
            JOIN calls k ON k.org_id = :org
             AND (k.provider_call_id = w.provider_call_id
                  OR (k.provider_call_id IS NULL AND k.id = w.tag))
            """
        ),
        {"org": org_id, "provider_ids": [w[0] for w in wanted], "tags": [w[1] for w in wanted]},
    )
    return {r.wanted: r.id for r in rows}


@dataclass(frozen=True)
class PolledCall:
    """A placed call the reconciler asks its provider about."""

    call_id: uuid.UUID
    org_id: uuid.UUID
    provider_call_id: str
    placed_at: datetime | None


async def take_calls_to_poll(
    session: AsyncSession,
    *,
    providers: Sequence[str],
    quiet_since: datetime,
    now: datetime,
    limit: int,
) -> list[PolledCall]:
    """Placed calls of orgs on these providers that have not ended and that the provider has
    not been heard of (nor asked about) since `quiet_since`; stamps them polled now, so
    several dispatchers share the work."""
    rows = await session.execute(
        text(
            f"""
            WITH due AS (
                SELECT k.id FROM calls k JOIN orgs o ON o.id = k.org_id
                WHERE k.provider_call_id IS NOT NULL AND {p.is_open("k")}
                  AND NOT {p.status_is("k.status", CallStatus.SCHEDULED)}
                  AND o.provider = ANY(:providers)
                  AND GREATEST(k.reported_at, k.polled_at, k.started_at) < :quiet
                ORDER BY GREATEST(k.reported_at, k.polled_at, k.started_at)
                LIMIT :limit FOR UPDATE OF k SKIP LOCKED
            )
            UPDATE calls k SET polled_at = :now FROM due WHERE k.id = due.id
            RETURNING k.id, k.org_id, k.provider_call_id, k.started_at
            """
        ),
        {"providers": list(providers), "quiet": quiet_since, "now": now, "limit": limit},
    )
    return [PolledCall(r.id, r.org_id, r.provider_call_id, r.started_at) for r in rows]


async def audience_of(
    session: AsyncSession, *, campaign_id: uuid.UUID
) -> list[tuple[int | None, dict[str, Any]]]:
    """A campaign's customers as uploaded, in dial order, with their dialPlan entry index
    (first attempts only: a retry is the same contact again)."""
    rows = await session.execute(
        text(
            "SELECT dial_plan_index, customer FROM calls"
            " WHERE campaign_id = :c AND attempt_number = 1 ORDER BY position"
        ),
        {"c": campaign_id},
    )
    return [(r.dial_plan_index, r.customer) for r in rows]


# ---- v2 counters (campaign_counts) ----

# The triggers on `calls` append one row per write to a campaign (migration 0702); this
# replaces the rows of campaigns that have several with their sum (none when it is zero).
# Rows appended meanwhile are not in this statement's snapshot, so they stay; a row another
# fold deleted first is not returned here, so nothing is counted twice.
_FOLD_COUNTS = text(
    f"""
    WITH many AS (
        SELECT campaign_id FROM campaign_counts
        GROUP BY campaign_id HAVING count(*) > 1 LIMIT :limit
    ), gone AS (
        DELETE FROM campaign_counts x USING many WHERE x.campaign_id = many.campaign_id
        RETURNING x.*
    ), summed AS (
        SELECT campaign_id, {", ".join(f"sum({c})::integer AS {c}" for c in models.COUNT_COLUMNS)}
        FROM gone GROUP BY campaign_id
    ), kept AS (
        INSERT INTO campaign_counts (campaign_id, {", ".join(models.COUNT_COLUMNS)})
        SELECT * FROM summed WHERE {" OR ".join(f"{c} <> 0" for c in models.COUNT_COLUMNS)}
    )
    SELECT count(*) FROM summed
    """
)


async def fold_campaign_counts(session: AsyncSession, *, limit: int = 1000) -> int:
    """Fold the counter rows of up to `limit` campaigns into one each; how many were."""
    return int((await session.execute(_FOLD_COUNTS, {"limit": limit})).scalar_one())
