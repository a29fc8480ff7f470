"""Campaign-control use cases (extensions): the audience's time zones and the feasibility
estimate at creation, pause and resume. Services never commit."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import stats_repository as stats
from campaign_service.campaigns import lifecycle
from campaign_service.campaigns import repository as repo
from campaign_service.campaigns.calling_hours import CallingHours, contact_zones
from campaign_service.campaigns.feasibility import estimate
from campaign_service.campaigns.schemas_control import CallingWindow, Feasibility
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.db import models
from campaign_service.errors import NotFound
from campaign_service.timeutil import iso_z

Zones = tuple[str, ...]


async def audience_zones(entries: Sequence[dict[str, Any]], window: CallingWindow) -> list[Zones]:
    """Each customer's time zones, in insert order (see calls.repository.insert_calls).
    Number lookups cost ~0.1 ms each, so a big audience is resolved off the event loop."""
    customers = [c for entry in entries for c in entry["customers"]]

    def resolve() -> list[Zones]:
        return [contact_zones(c, window.fallbackTimeZone) for c in customers]

    if len(customers) < 200:
        return resolve()
    return await asyncio.to_thread(resolve)


async def feasibility(
    session: AsyncSession,
    *,
    org: models.Org,
    contacts: int,
    zones: Sequence[Zones] | None,
    window: CallingWindow | None,
    max_concurrency: int,
    start: datetime,
    latest_at: datetime | None,
    default_call_seconds: float,
) -> Feasibility:
    """Can the campaign call its whole audience (first attempts) before latestAt?"""
    median = await stats.median_call_seconds(session, org_id=org.id)
    call_seconds = median or default_call_seconds
    concurrency = min(max_concurrency, org.concurrency_limit)
    groups = list(Counter(zones).items()) if zones is not None else [((), contacts)]
    hours = CallingHours.from_config(window.model_dump()) if window else None
    result = estimate(
        start=start, groups=groups, hours=hours, concurrency=concurrency, call_seconds=call_seconds
    )
    fits = None
    if latest_at is not None and result.finish_at is not None:
        fits = result.finish_at <= latest_at
    return Feasibility(
        contacts=contacts,
        concurrency=concurrency,
        typicalCallSeconds=round(call_seconds, 1),
        typicalCallSource="org-median" if median else "default",
        estimatedFinishAt=result.finish_at,
        fitsBeforeLatestAt=fits,
        message=_message(result.finish_at, latest_at, fits, result.never_callable),
    )


def _message(
    finish_at: datetime | None, latest_at: datetime | None, fits: bool | None, never: int
) -> str:
    parts = []
    if finish_at is None:
        parts.append("The audience cannot be called within a year at this pace.")
    else:
        parts.append(f"The last first attempt would end around {iso_z(finish_at)}")
        if latest_at is not None:
            verdict = "before" if fits else "after"
            parts[-1] += f", {verdict} latestAt ({iso_z(latest_at)})"
        parts[-1] += "."
    if never:
        parts.append(
            f"{never} contacts have time zones that share no calling hours; they will be "
            "skipped (skipReason no-calling-hours)."
        )
    return " ".join(parts)


async def _locked(
    session: AsyncSession, *, org_id: uuid.UUID | None, campaign_id: uuid.UUID
) -> models.Campaign:
    campaign = await repo.get_campaign(
        session, org_id=org_id, campaign_id=campaign_id, for_update=True
    )
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


async def pause_campaign(
    session: AsyncSession,
    *,
    org_id: uuid.UUID | None,
    campaign_id: uuid.UUID,
    reason: str | None,
    now: datetime,
) -> models.Campaign:
    """The user pauses a running campaign (`org_id` None: the CLI, any org)."""
    campaign = await _locked(session, org_id=org_id, campaign_id=campaign_id)
    await lifecycle.pause_by_user(
        session,
        campaign_id=campaign.id,
        current=CampaignStatus(campaign.status),
        paused=campaign.paused_at is not None,
        reason=reason,
        now=now,
    )
    await session.refresh(campaign)
    return campaign


async def resume_campaign(
    session: AsyncSession, *, org_id: uuid.UUID | None, campaign_id: uuid.UUID, now: datetime
) -> models.Campaign:
    """The user resumes a paused campaign (`org_id` None: the CLI, any org)."""
    campaign = await _locked(session, org_id=org_id, campaign_id=campaign_id)
    await lifecycle.resume_by_user(
        session,
        campaign_id=campaign.id,
        org_id=campaign.org_id,
        current=CampaignStatus(campaign.status),
        paused=campaign.paused_at is not None,
        now=now,
    )
    await session.refresh(campaign)
    return campaign
