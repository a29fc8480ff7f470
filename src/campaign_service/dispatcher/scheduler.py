"""The engine's maintenance steps: start due campaigns, give waiting calls their next stretch
of calling hours, close capacity windows, finish campaigns whose calls have all ended.
Campaign moves go through `campaigns.lifecycle` (a compare-and-set each), so any number of
dispatchers can run them at once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import repository as calls
from campaign_service.campaigns import lifecycle
from campaign_service.campaigns.calling_hours import CallingHours, next_callable


async def activate_due_campaigns(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """scheduled -> in-progress once earliestAt is reached (at once without a schedulePlan)."""
    return [m.campaign_id for m in await lifecycle.start_due_campaigns(session, now=now)]


async def close_capacity_windows(
    session: AsyncSession, *, now: datetime, window_seconds: float
) -> int:
    """End calls that never got a slot once their capacity window closes: `window_seconds`
    after they became callable, or latestAt, whichever comes first."""
    return await calls.end_calls_past_capacity_window(
        session, now=now, window_seconds=window_seconds
    )


async def roll_calling_windows(session: AsyncSession, *, now: datetime) -> int:
    """Waiting calls whose stretch of calling hours closed (or was never computed) get the
    next one, computed in each contact's zones; those whose zones share no calling hours
    end unplaced. Returns how many calls changed."""
    groups = await calls.windows_to_roll(session, now=now)
    hours: dict[uuid.UUID, CallingHours] = {}
    plan = []
    for group in groups:
        if group.campaign_id not in hours:
            hours[group.campaign_id] = CallingHours.from_config(group.calling_window)
        zones = group.time_zones or (hours[group.campaign_id].fallback_zone,)
        plan.append((group, next_callable(hours[group.campaign_id], zones, group.from_at)))
    rolled, ended = await calls.roll_windows(session, plan=plan, now=now)
    return rolled + ended


async def finish_completed_campaigns(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """in-progress -> ended (campaign.ended.success) once every call has ended."""
    return [m.campaign_id for m in await lifecycle.finish_completed_campaigns(session, now=now)]
