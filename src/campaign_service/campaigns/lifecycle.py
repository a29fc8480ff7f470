"""The one function that moves campaigns through their lifecycle, and the moves built on it.

Every status change (the user's end and delete, the engine's start and finish) goes through
`move_campaigns`: it takes the allowed source stages from the transition table in `state`
when it writes, compare-and-sets (a campaign that moved meanwhile is simply not moved again),
and appends a `campaign_events` row per campaign in the same statement.

Pauses (an extension) are not moves: a paused campaign stays in-progress. `pause` and
`resume` compare-and-set its pause flag the same way, with a history row each.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import repository as calls
from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED
from campaign_service.campaigns import repository as repo
from campaign_service.campaigns.repository import Moved
from campaign_service.campaigns.state import (
    CampaignEndedReason,
    CampaignStatus,
    Cause,
    PauseSource,
    Stage,
    require_pausable,
    require_resumable,
    require_transition,
    sources_of,
    user_end_reason,
)
from campaign_service.db.notify import notify_dispatchers


class Source(StrEnum):
    """Who made a move."""

    USER = "user"
    ENGINE = "engine"


async def move_campaigns(
    session: AsyncSession,
    *,
    campaign_ids: Sequence[uuid.UUID],
    to: Stage,
    cause: Cause,
    source: Source,
    now: datetime,
    ended_reason: CampaignEndedReason | None = None,
) -> list[Moved]:
    """Move these campaigns to `to` where the transition table allows it; returns those moved."""
    if (to is Stage.ENDED) != (ended_reason is not None):
        raise ValueError("an endedReason goes with a move to ended, and only with it")
    return await repo.move(
        session,
        campaign_ids=campaign_ids,
        sources=sources_of(to),
        target=to,
        ended_reason=ended_reason.value if ended_reason else None,
        cause=cause.value,
        source=source.value,
        now=now,
        event=event_type(to, cause),
    )


def event_type(to: Stage, cause: Cause) -> str | None:
    """The campaign event (serverMessages) a move reports, written with it to the outbox."""
    if to is Stage.IN_PROGRESS:
        return "campaign.started"
    if to is Stage.ENDED:
        return "campaign.cancelled" if cause is Cause.ENDED_BY_USER else "campaign.ended"
    if to is Stage.ARCHIVED:
        return "campaign.archived"
    return None


async def record_created(session: AsyncSession, *, campaign_id: uuid.UUID, now: datetime) -> None:
    await repo.record_created(
        session,
        campaign_id=campaign_id,
        source=Source.USER.value,
        cause=Cause.CREATED.value,
        now=now,
    )


async def end_by_user(
    session: AsyncSession, *, campaign_id: uuid.UUID, current: Stage, now: datetime
) -> None:
    """The user ends the campaign (locked by the caller): dispatch stops, calls not yet placed
    are cancelled, calls in progress finish."""
    reason = user_end_reason(current)
    require_transition(current, Stage.ENDED)
    moved = await move_campaigns(
        session,
        campaign_ids=[campaign_id],
        to=Stage.ENDED,
        cause=Cause.ENDED_BY_USER,
        source=Source.USER,
        now=now,
        ended_reason=reason,
    )
    if not moved:
        raise RuntimeError(f"campaign {campaign_id} was not {current.value} any more")
    await calls.end_unplaced_calls(
        session,
        campaign_ids=[campaign_id],
        ended_reason=CANCELLED_BEFORE_PLACED,
        source=Source.USER.value,
        now=now,
    )


async def archive_by_user(
    session: AsyncSession, *, campaign_id: uuid.UUID, current: Stage, now: datetime
) -> None:
    """DELETE: end the campaign if it is still running, then archive it."""
    if current is not Stage.ENDED:
        await end_by_user(session, campaign_id=campaign_id, current=current, now=now)
    await move_campaigns(
        session,
        campaign_ids=[campaign_id],
        to=Stage.ARCHIVED,
        cause=Cause.DELETED_BY_USER,
        source=Source.USER,
        now=now,
    )


async def start_due_campaigns(session: AsyncSession, *, now: datetime) -> list[Moved]:
    """scheduled -> in-progress once earliestAt is reached (at once without a schedulePlan)."""
    due = await repo.due_to_start(session, now=now)
    started: list[Moved] = []
    for cause, planned in ((Cause.EARLIEST_AT_REACHED, True), (Cause.STARTED_AT_ONCE, False)):
        ids = [campaign_id for campaign_id, has_plan in due if has_plan is planned]
        started += await move_campaigns(
            session,
            campaign_ids=ids,
            to=Stage.IN_PROGRESS,
            cause=cause,
            source=Source.ENGINE,
            now=now,
        )
    for org_id in {m.org_id for m in started}:
        await notify_dispatchers(session, org_id)
    return started


async def finish_completed_campaigns(session: AsyncSession, *, now: datetime) -> list[Moved]:
    """in-progress -> ended (campaign.ended.success) once every call has ended."""
    done = await repo.with_every_call_ended(session)
    finished: list[Moved] = []
    for cause, window_closed in (
        (Cause.ALL_CALLS_ENDED, False),
        (Cause.CAPACITY_WINDOW_CLOSED, True),
    ):
        finished += await move_campaigns(
            session,
            campaign_ids=[campaign_id for campaign_id, closed in done if closed is window_closed],
            to=Stage.ENDED,
            cause=cause,
            source=Source.ENGINE,
            now=now,
            ended_reason=CampaignEndedReason.ENDED_SUCCESS,
        )
    return finished


async def pause(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    source: PauseSource,
    reason: str | None,
    now: datetime,
) -> bool:
    """Pause a running campaign (no new calls; calls in progress finish); False if it was not
    running or already paused. Claims hold the campaign FOR SHARE, so once this commits no
    claim for it is in progress and none starts."""
    cause = Cause.PAUSED_BY_USER if source is PauseSource.USER else Cause.PAUSED_BY_BREAKER
    return await repo.set_paused(
        session,
        campaign_id=campaign_id,
        paused=True,
        cause=cause.value,
        source=source.value,
        reason=reason,
        now=now,
    )


async def pause_by_user(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    current: CampaignStatus,
    paused: bool,
    reason: str | None,
    now: datetime,
) -> None:
    """The user pauses the campaign (locked by the caller)."""
    require_pausable(current, paused=paused)
    if not await pause(
        session, campaign_id=campaign_id, source=PauseSource.USER, reason=reason, now=now
    ):
        raise RuntimeError(f"campaign {campaign_id} could not be paused")


async def resume_by_user(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    org_id: uuid.UUID,
    current: CampaignStatus,
    paused: bool,
    now: datetime,
) -> None:
    """The user resumes a paused campaign (locked by the caller), whoever paused it: dialing
    goes on, and its waiting calls get a fresh capacity window."""
    require_resumable(current, paused=paused)
    resumed = await repo.set_paused(
        session,
        campaign_id=campaign_id,
        paused=False,
        cause=Cause.RESUMED_BY_USER.value,
        source=PauseSource.USER.value,
        reason=None,
        now=now,
    )
    if not resumed:
        raise RuntimeError(f"campaign {campaign_id} could not be resumed")
    await calls.restart_capacity_clock(session, campaign_id=campaign_id, now=now)
    await notify_dispatchers(session, org_id)
