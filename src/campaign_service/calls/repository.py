"""Every statement that writes the `calls` table, and the reads the engine claims with.

Writers that change a call's status append its `call_events` history row in the same
statement. Status predicates come from `db.predicates` (generated from `calls.status`), so the
claim counts the same "in flight" the partial indexes are built on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED, require_known
from campaign_service.calls.status import CallStatus, SkipReason
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.db import predicates as p
from campaign_service.db.liveness import held_by_a_dead_dispatcher
from campaign_service.db.notify import notify_dispatchers
from campaign_service.telephony.base import StatusReport

SCHEDULED = CallStatus.SCHEDULED.value
ENDED = CallStatus.ENDED.value
RUNNING = CampaignStatus.IN_PROGRESS.value


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
    # Whether the campaign was still running when the lease was taken. A lease recovered from
    # a dead dispatcher after its campaign ended must not become a new dial.
    campaign_running: bool = True
    # Set when a check right before the dial screened the call out (it must not be dialed).
    screened: SkipReason | None = None


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
                       customer, status, created_at, updated_at)
    SELECT gen_random_uuid(), :campaign, :org, (customer.ord - 1)::int, entry.index,
           entry.phone_number_id, customer.value, '{SCHEDULED}', :now, :now
    FROM jsonb_array_elements(CAST(:customers AS jsonb)) WITH ORDINALITY AS customer(value, ord)
    JOIN unnest(CAST(:firsts AS int[]), CAST(:lasts AS int[]), CAST(:indexes AS int[]),
                CAST(:numbers AS text[])) AS entry(first, last, index, phone_number_id)
      ON customer.ord - 1 BETWEEN entry.first AND entry.last
    """
)


async def insert_calls(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    org_id: uuid.UUID,
    entries: list[dict[str, Any]],
    now: datetime,
) -> None:
    """One call row per customer, numbered in upload (= dial) order across the entries.

    `entries` are `{"index": dial-plan index or None, "phoneNumberId": ..., "customers": [...]}`.
    All customers travel as one JSON array, and each entry as the range of positions it
    covers; PostgreSQL expands them in a single statement.
    """
    customers: list[Any] = []
    firsts, lasts, indexes, numbers = [], [], [], []
    for entry in entries:
        if not entry["customers"]:
            continue
        firsts.append(len(customers))
        customers.extend(entry["customers"])
        lasts.append(len(customers) - 1)
        indexes.append(entry["index"])
        numbers.append(entry["phoneNumberId"])
    if not customers:
        return
    await session.execute(
        _INSERT_CALLS,
        {
            "campaign": campaign_id,
            "org": org_id,
            "customers": orjson.dumps(customers).decode(),
            "firsts": firsts,
            "lasts": lasts,
            "indexes": indexes,
            "numbers": numbers,
            "now": now,
        },
    )


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


async def orgs_with_due_calls(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """Orgs that have an in-progress campaign with a call ready to be claimed."""
    rows = await session.execute(
        text(
            f"""
            SELECT DISTINCT c.org_id FROM campaigns c
            WHERE c.status = '{RUNNING}' AND EXISTS (
                SELECT 1 FROM calls k
                WHERE k.campaign_id = c.id AND {p.waiting("k")}
                  AND (k.next_attempt_at IS NULL OR k.next_attempt_at <= :now))
            """
        ),
        {"now": now},
    )
    return [r.org_id for r in rows]


async def running_campaigns_for_claim(
    session: AsyncSession, *, org_id: uuid.UUID
) -> list[tuple[uuid.UUID, int]]:
    """The org's in-progress campaigns, oldest first, as (id, maxConcurrency).

    FOR SHARE: a user ending a campaign (FOR UPDATE) waits for this claim, or this claim
    waits for the end and then sees the campaign is no longer in progress."""
    rows = await session.execute(
        text(
            f"""
            SELECT id, max_concurrency FROM campaigns
            WHERE org_id = :org AND status = '{RUNNING}'
            ORDER BY started_at, id FOR SHARE
            """
        ),
        {"org": org_id},
    )
    return [(r.id, r.max_concurrency) for r in rows]


async def lock_org_for_claim(session: AsyncSession, *, org_id: uuid.UUID) -> int | None:
    """Lock the org's row (claims for one org are serialised); its concurrency limit, or None
    when another dispatcher is claiming for it right now."""
    row = (
        await session.execute(
            text("SELECT concurrency_limit FROM orgs WHERE id = :org FOR UPDATE SKIP LOCKED"),
            {"org": org_id},
        )
    ).one_or_none()
    return None if row is None else int(row.concurrency_limit)


async def in_flight_counts(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_ids: Sequence[uuid.UUID]
) -> tuple[int, dict[uuid.UUID, int]]:
    """Calls holding a slot: in the whole org, and per campaign (one indexed scan)."""
    rows = await session.execute(
        text(
            f"""
            SELECT campaign_id, count(*) AS busy FROM calls
            WHERE org_id = :org AND {p.in_flight()} GROUP BY campaign_id
            """
        ),
        {"org": org_id},
    )
    per_campaign = {r.campaign_id: int(r.busy) for r in rows}
    wanted = set(campaign_ids)
    return sum(per_campaign.values()), {k: v for k, v in per_campaign.items() if k in wanted}


_CLAIM_COLUMNS = f"""
    k.id, k.campaign_id, k.org_id, k.position, k.phone_number_id, k.customer, k.attempts,
    c.assistant_id, c.workflow_id, c.squad_id, c.extra_config,
    c.status = '{RUNNING}' AS campaign_running
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
    before the provider is called, so a crash mid-dial leaves a visible, recoverable trace."""
    rows = await session.execute(
        text(
            f"""
            WITH picked AS ({picked_sql}), k AS (
                UPDATE calls SET lease_owner = :owner, lease_expires_at = :until,
                                 attempts = attempts + 1, updated_at = :now
                WHERE id IN (SELECT id FROM picked)
                RETURNING *
            )
            SELECT {_CLAIM_COLUMNS} FROM k JOIN campaigns c ON c.id = k.campaign_id
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
        WHERE campaign_id = :campaign AND {p.waiting()}
          AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
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
                           next_attempt_at = :retry_at, updated_at = :now
        FROM target t WHERE k.id = t.id AND t.campaign_status = '{RUNNING}'
        RETURNING k.id
    ), ended AS (
        UPDATE calls k SET status = '{ENDED}', ended_reason = :reason, ended_at = :now,
                           lease_owner = NULL, lease_expires_at = NULL,
                           next_attempt_at = NULL, updated_at = :now
        FROM target t WHERE k.id = t.id AND t.campaign_status <> '{RUNNING}'
        RETURNING k.id, k.campaign_id
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :reason, 'engine', :now FROM ended
    )
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
        RETURNING k.id, k.campaign_id, k.org_id
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :ended_reason, 'engine', :now
        FROM ended
    )
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
        },
    )
    for org_id in orgs.scalars():  # their slots are free again
        await notify_dispatchers(session, org_id)


# ---- status changes ----

_APPLY = text(
    f"""
    WITH report AS (
        SELECT * FROM unnest(CAST(:call_ids AS uuid[]), CAST(:statuses AS text[]),
                             CAST(:reasons AS text[]), CAST(:ats AS timestamptz[]),
                             CAST(:provider_call_ids AS text[]))
                      AS e(call_id, status, reason, at, provider_call_id)
    ), current AS (
        -- Lock in ID order so two batches touching the same calls cannot deadlock.
        SELECT c.id, c.status FROM calls c JOIN report ON report.call_id = c.id
        ORDER BY c.id FOR UPDATE OF c
    ), changed AS (
        UPDATE calls AS c SET
            status = report.status,
            ended_reason = CASE WHEN report.status = '{ENDED}' THEN report.reason
                                ELSE c.ended_reason END,
            ended_at = CASE WHEN report.status = '{ENDED}' THEN report.at ELSE c.ended_at END,
            started_at = CASE WHEN report.status = '{ENDED}' AND c.status = '{SCHEDULED}'
                              THEN c.started_at ELSE COALESCE(c.started_at, report.at) END,
            provider_call_id = COALESCE(report.provider_call_id, c.provider_call_id),
            lease_owner = NULL,
            lease_expires_at = NULL,
            next_attempt_at = NULL,
            updated_at = :now
        FROM report, current
        WHERE c.id = report.call_id AND current.id = c.id
          AND {p.rank("current.status")} < {p.rank("report.status")}
        RETURNING c.id, c.campaign_id, c.org_id, current.status AS from_status,
                  report.status AS to_status, report.reason
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, from_status, to_status, reason, :source, :now FROM changed
    )
    SELECT id, campaign_id, org_id, from_status, to_status FROM changed
    """
)


def _rounds(reports: Sequence[StatusReport]) -> list[list[StatusReport]]:
    """Split reports so each round has at most one per call, keeping each call's order."""
    rounds: list[list[StatusReport]] = []
    seen: dict[uuid.UUID, int] = {}
    for report in reports:
        index = seen.get(report.call_id, 0)
        seen[report.call_id] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(report)
    return rounds


async def apply_status_reports(
    session: AsyncSession, reports: Sequence[StatusReport], *, source: str, now: datetime
) -> list[CallChange]:
    """Apply reports in order (set-based); returns the changes made. A report that would not
    move its call forward, repeats an earlier one, or names an unknown call changes nothing.
    This is the one path every status report takes, whatever the provider."""
    changes: list[CallChange] = []
    for batch in _rounds(reports):
        result = await session.execute(
            _APPLY,
            {
                "call_ids": [r.call_id for r in batch],
                "statuses": [r.status.value for r in batch],
                "reasons": [r.ended_reason for r in batch],
                "ats": [r.occurred_at or now for r in batch],
                "provider_call_ids": [r.provider_call_id for r in batch],
                "source": source,
                "now": now,
            },
        )
        changes.extend(
            CallChange(
                call_id=row.id,
                campaign_id=row.campaign_id,
                org_id=row.org_id,
                from_status=CallStatus(row.from_status),
                to_status=CallStatus(row.to_status),
            )
            for row in result
        )
    # Each ended call frees a slot: wake the dispatchers (delivered at commit, once per org).
    for org_id in {c.org_id for c in changes if c.to_status is CallStatus.ENDED}:
        await notify_dispatchers(session, org_id)
    return changes


_END_UNPLACED = text(
    f"""
    WITH ended AS (
        UPDATE calls SET status = '{ENDED}', ended_reason = :reason, ended_at = :now,
                         next_attempt_at = NULL, updated_at = :now
        WHERE campaign_id = ANY(:campaigns) AND {p.waiting()}
        RETURNING id, campaign_id
    )
    INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                             source, created_at)
    SELECT id, campaign_id, '{SCHEDULED}', '{ENDED}', :reason, :source, :now FROM ended
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
        },
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
