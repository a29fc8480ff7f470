"""Claiming calls to dial, under the campaign and org concurrency limits.

Correctness across any number of dispatcher processes rests on one lock: a claim locks the
org's row first, so claims for one org are serialised, and every count taken after the lock sees
all committed claims. Counts can only shrink concurrently (calls ending), which is safe.
A call holds a slot from its claim (lease set) until it ends, so a call being dialed is counted
even before the provider has answered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

IN_FLIGHT_SQL = (
    "(status IN ('queued', 'ringing', 'in-progress', 'forwarding') OR lease_expires_at IS NOT NULL)"
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


_CLAIM_COLUMNS = """
    k.id, k.campaign_id, k.org_id, k.position, k.phone_number_id, k.customer, k.attempts,
    c.assistant_id, c.workflow_id, c.squad_id, c.extra_config
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
            )
            for r in rows
        ),
        key=lambda c: (c.campaign_id, c.position),
    )


async def orgs_with_due_calls(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """Orgs that have an in-progress campaign with a call ready to be claimed."""
    rows = await session.execute(
        text(
            """
            SELECT DISTINCT c.org_id FROM campaigns c
            WHERE c.status = 'in-progress' AND EXISTS (
                SELECT 1 FROM calls k
                WHERE k.campaign_id = c.id AND k.status = 'scheduled'
                  AND k.lease_expires_at IS NULL
                  AND (k.next_attempt_at IS NULL OR k.next_attempt_at <= :now))
            """
        ),
        {"now": now},
    )
    return [r.org_id for r in rows]


def allocate(free_org: int, free_by_campaign: dict[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """Share the org's free slots among its campaigns round-robin, oldest campaign first."""
    grant = dict.fromkeys(free_by_campaign, 0)
    remaining = free_org
    while remaining > 0:
        progressed = False
        for campaign_id, free in free_by_campaign.items():
            if remaining == 0:
                break
            if grant[campaign_id] < free:
                grant[campaign_id] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break
    return grant


async def claim_for_org(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[ClaimedCall]:
    """Claim as many due calls of one org as its limits allow (at most `limit`)."""
    org = (
        await session.execute(
            text("SELECT concurrency_limit FROM orgs WHERE id = :org FOR UPDATE SKIP LOCKED"),
            {"org": org_id},
        )
    ).one_or_none()
    if org is None:  # another dispatcher is claiming for this org right now
        return []
    # FOR SHARE: a user ending a campaign (FOR UPDATE) waits for this claim, or this claim
    # waits for the end and then sees the campaign is no longer in progress.
    campaigns = (
        await session.execute(
            text(
                """
                SELECT id, max_concurrency FROM campaigns
                WHERE org_id = :org AND status = 'in-progress'
                ORDER BY started_at, id FOR SHARE
                """
            ),
            {"org": org_id},
        )
    ).all()
    if not campaigns:
        return []
    busy_org = (
        await session.execute(
            text(f"SELECT count(*) FROM calls WHERE org_id = :org AND {IN_FLIGHT_SQL}"),
            {"org": org_id},
        )
    ).scalar_one()
    busy: dict[uuid.UUID, int] = {
        row.campaign_id: int(row[1])
        for row in (
            await session.execute(
                text(
                    f"""
                    SELECT campaign_id, count(*) FROM calls
                    WHERE campaign_id = ANY(:ids) AND {IN_FLIGHT_SQL} GROUP BY campaign_id
                    """
                ),
                {"ids": [c.id for c in campaigns]},
            )
        ).all()
    }
    free_org = min(org.concurrency_limit - busy_org, limit)
    free = {c.id: max(0, c.max_concurrency - busy.get(c.id, 0)) for c in campaigns}
    claimed: list[ClaimedCall] = []
    for campaign_id, count in allocate(free_org, free).items():
        if count:
            claimed.extend(
                await _claim_from_campaign(
                    session,
                    campaign_id=campaign_id,
                    count=count,
                    owner=owner,
                    now=now,
                    lease_until=lease_until,
                )
            )
    return claimed


async def _claim_from_campaign(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    count: int,
    owner: str,
    now: datetime,
    lease_until: datetime,
) -> list[ClaimedCall]:
    picked = """
        SELECT id FROM calls
        WHERE campaign_id = :campaign AND status = 'scheduled' AND lease_expires_at IS NULL
          AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
        ORDER BY position LIMIT :count FOR UPDATE SKIP LOCKED
    """
    return await _lease(
        session,
        picked,
        {"campaign": campaign_id, "count": count},
        owner=owner,
        now=now,
        lease_until=lease_until,
    )


async def recover_expired_leases(
    session: AsyncSession, *, owner: str, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedCall]:
    """Take over calls whose dispatcher died mid-dial. They already hold their slot; they are
    placed again with the same idempotency key, so a dial that did reach the provider is not
    repeated."""
    picked = """
        SELECT id FROM calls WHERE lease_expires_at < :now AND status = 'scheduled'
        ORDER BY lease_expires_at LIMIT :limit FOR UPDATE SKIP LOCKED
    """
    return await _lease(
        session, picked, {"limit": limit}, owner=owner, now=now, lease_until=lease_until
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


async def release_for_retry(
    session: AsyncSession, *, call_id: uuid.UUID, owner: str, retry_at: datetime, now: datetime
) -> None:
    """The provider had no capacity: give the slot back and try the call again later."""
    await session.execute(
        text(
            """
            UPDATE calls SET lease_owner = NULL, lease_expires_at = NULL,
                             next_attempt_at = :retry_at, updated_at = :now
            WHERE id = :id AND lease_owner = :owner AND status = 'scheduled'
            """
        ),
        {"id": call_id, "owner": owner, "retry_at": retry_at, "now": now},
    )
