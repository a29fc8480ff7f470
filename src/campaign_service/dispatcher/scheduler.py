"""Campaign-level moves the engine makes on its own: start, close the capacity window, finish.

Each is a compare-and-set on the campaign's status (the rules are in campaigns/state.py), so
any number of dispatchers can run them at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.bulk import end_unplaced_calls
from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED, CAPACITY_WINDOW_CLOSED
from campaign_service.calls.events import notify_dispatchers
from campaign_service.campaigns.schemas import CampaignEndedReason, CampaignStatus
from campaign_service.campaigns.state import can_transition

S = CampaignStatus
assert can_transition(S.SCHEDULED, S.IN_PROGRESS)
assert can_transition(S.IN_PROGRESS, S.ENDED)


async def activate_due_campaigns(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """scheduled -> in-progress once earliestAt is reached (at once without a schedulePlan)."""
    rows = (
        await session.execute(
            text(
                """
                UPDATE campaigns SET status = :to, started_at = :now, updated_at = :now
                WHERE id IN (
                    SELECT id FROM campaigns
                    WHERE status = :from AND archived_at IS NULL
                      AND (NOT has_schedule_plan OR earliest_at <= :now)
                    FOR UPDATE SKIP LOCKED)
                  AND status = :from
                RETURNING id, org_id
                """
            ),
            {"from": S.SCHEDULED.value, "to": S.IN_PROGRESS.value, "now": now},
        )
    ).all()
    for org_id in {r.org_id for r in rows}:
        await notify_dispatchers(session, org_id)
    return [r.id for r in rows]


async def close_capacity_windows(session: AsyncSession, *, now: datetime, window: timedelta) -> int:
    """End calls that never got a slot once the window closes: one hour (the setting) after
    the campaign started, or latestAt, whichever comes first."""
    expired = (
        (
            await session.execute(
                text(
                    """
                SELECT id FROM campaigns
                WHERE status = 'in-progress'
                  AND LEAST(started_at + :window, COALESCE(latest_at, 'infinity')) <= :now
                """
                ),
                {"now": now, "window": window},
            )
        )
        .scalars()
        .all()
    )
    return await end_unplaced_calls(
        session,
        campaign_ids=expired,
        ended_reason=CAPACITY_WINDOW_CLOSED,
        source="engine",
        now=now,
    )


async def sweep_ended_campaigns(session: AsyncSession, *, now: datetime) -> int:
    """A call can come back unplaced after its campaign was ended (the provider had no
    capacity for it); end it as the user's cancellation would have."""
    ended = (
        (
            await session.execute(
                text(
                    """
                SELECT DISTINCT k.campaign_id FROM calls k JOIN campaigns c ON c.id = k.campaign_id
                WHERE c.status = 'ended' AND k.status = 'scheduled'
                  AND k.lease_expires_at IS NULL
                """
                )
            )
        )
        .scalars()
        .all()
    )
    return await end_unplaced_calls(
        session,
        campaign_ids=ended,
        ended_reason=CANCELLED_BEFORE_PLACED,
        source="engine",
        now=now,
    )


async def finish_completed_campaigns(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """in-progress -> ended (campaign.ended.success) once every call has ended."""
    rows = await session.execute(
        text(
            """
            UPDATE campaigns c SET status = :to, ended_reason = :reason, ended_at = :now,
                                   updated_at = :now
            WHERE c.status = :from
              AND NOT EXISTS (SELECT 1 FROM calls k
                              WHERE k.campaign_id = c.id AND k.status <> 'ended')
            RETURNING c.id
            """
        ),
        {
            "from": S.IN_PROGRESS.value,
            "to": S.ENDED.value,
            "reason": CampaignEndedReason.ENDED_SUCCESS.value,
            "now": now,
        },
    )
    return list(rows.scalars().all())
