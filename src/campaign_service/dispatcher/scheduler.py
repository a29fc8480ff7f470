"""The engine's maintenance steps: start due campaigns, close capacity windows, finish
campaigns whose calls have all ended. Campaign moves go through `campaigns.lifecycle` (a
compare-and-set each), so any number of dispatchers can run them at once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import repository as calls
from campaign_service.calls.ended_reasons import CAPACITY_WINDOW_CLOSED
from campaign_service.campaigns import lifecycle
from campaign_service.campaigns import repository as campaigns


async def activate_due_campaigns(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """scheduled -> in-progress once earliestAt is reached (at once without a schedulePlan)."""
    return [m.campaign_id for m in await lifecycle.start_due_campaigns(session, now=now)]


async def close_capacity_windows(
    session: AsyncSession, *, now: datetime, window_seconds: float
) -> int:
    """End calls that never got a slot once the window closes: `window_seconds` after the
    campaign started, or latestAt, whichever comes first."""
    expired = await campaigns.with_closed_capacity_window(
        session, now=now, window_seconds=window_seconds
    )
    return await calls.end_unplaced_calls(
        session,
        campaign_ids=expired,
        ended_reason=CAPACITY_WINDOW_CLOSED,
        source=lifecycle.Source.ENGINE.value,
        now=now,
    )


async def finish_completed_campaigns(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """in-progress -> ended (campaign.ended.success) once every call has ended."""
    return [m.campaign_id for m in await lifecycle.finish_completed_campaigns(session, now=now)]
