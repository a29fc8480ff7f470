"""A campaign's progress report (extension): counts by state, recent pace, ETA, concurrency,
calling hours by zone, and why no call is being placed (`blockers`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls import stats_repository as stats
from campaign_service.calls.status import COUNTED_IN_PROGRESS, CallStatus, in_order
from campaign_service.campaigns.calling_hours import CallingHours, next_callable
from campaign_service.campaigns.feasibility import estimate
from campaign_service.campaigns.schemas_control import CallingWindow
from campaign_service.campaigns.schemas_progress import (
    CallCounts,
    CallingWindowState,
    CampaignProgress,
    Concurrency,
    Eta,
    Rate,
    ZoneWindow,
)
from campaign_service.campaigns.schemas_v2 import CampaignContactCounters
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.db import models
from campaign_service.db import predicates as p
from campaign_service.readmodel.blockers import Facts, Held, blocked_by
from campaign_service.readmodel.campaigns import summaries

RECENT_SECONDS = 300.0
MAX_ZONE_GROUPS = 50

_COUNTS = text(
    f"""
    SELECT count(*) AS total,
           count(*) FILTER (WHERE {p.waiting("k")}) AS waiting,
           count(*) FILTER (WHERE {p.callable_now("k")}) AS callable,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.SCHEDULED)}
                            AND k.lease_expires_at IS NOT NULL) AS dialing,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.QUEUED)}) AS queued,
           count(*) FILTER (WHERE {p.status_in("k.status", in_order(COUNTED_IN_PROGRESS))})
               AS in_progress,
           count(*) FILTER (WHERE {p.status_is("k.status", CallStatus.ENDED)}) AS ended,
           count(*) FILTER (WHERE {p.in_flight("k")}) AS in_flight,
           count(*) FILTER (WHERE k.started_at > :recent) AS placed_recently,
           count(*) FILTER (WHERE k.ended_at > :recent) AS ended_recently
    FROM calls k WHERE k.campaign_id = :campaign
    """
)

# Waiting calls that may not be placed now, by what holds them: their zones (calling hours),
# a give-back by a provider without capacity (claimed before, never placed), a retry delay.
_HELD = text(
    f"""
    SELECT k.time_zones, k.attempts > 0 AS gave_back, k.attempt_number > 1 AS retry,
           count(*) AS calls, min(k.next_attempt_at) AS next_at
    FROM calls k
    WHERE k.campaign_id = :campaign AND {p.waiting("k")} AND NOT {p.callable_now("k")}
    GROUP BY 1, 2, 3
    """
)

_ZONES = text(
    f"""
    SELECT time_zones, count(*) AS calls FROM calls k
    WHERE k.campaign_id = :campaign AND {p.waiting("k")}
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {MAX_ZONE_GROUPS}
    """
)

_ORG = text(
    f"""
    SELECT o.concurrency_limit,
           (SELECT json_agg(json_build_array(u.id, u.name, u.busy)
                            ORDER BY u.busy DESC, u.name, u.id)
            FROM (SELECT c.id, c.name, count(*) AS busy
                  FROM calls k JOIN campaigns c ON c.id = k.campaign_id
                  WHERE k.org_id = o.id AND {p.in_flight("k")}
                  GROUP BY c.id, c.name) u) AS usage
    FROM orgs o WHERE o.id = :org
    """
)


async def progress(
    session: AsyncSession, campaign: models.Campaign, *, now: datetime, default_call_seconds: float
) -> CampaignProgress:
    """The progress report of one campaign at `now`."""
    params = {"campaign": campaign.id, "now": now}
    recent = now - timedelta(seconds=RECENT_SECONDS)
    counts = (await session.execute(_COUNTS, {**params, "recent": recent})).one()
    held = list((await session.execute(_HELD, params)).all())
    org = (await session.execute(_ORG, {"org": campaign.org_id})).one()
    hours = _hours(campaign)
    facts = _facts(campaign, counts, held, org, hours, now)
    zone_rows = list((await session.execute(_ZONES, params)).all()) if hours else []
    (summary,) = await summaries(session, [campaign], counters=True)
    return CampaignProgress(
        campaignId=str(campaign.id),
        status=CampaignStatus(campaign.status),
        at=now,
        pausedAt=facts.paused_at,
        pausedBy=facts.paused_by,
        pauseReason=facts.pause_reason,
        calls=_call_counts(counts, facts),
        contacts=CampaignContactCounters(**summary["contactCounters"]),
        rate=Rate(
            windowSeconds=RECENT_SECONDS,
            placed=counts.placed_recently,
            ended=counts.ended_recently,
            placedPerMinute=round(counts.placed_recently * 60 / RECENT_SECONDS, 2),
        ),
        eta=await _eta(session, campaign, facts, hours, zone_rows, default_call_seconds),
        concurrency=_concurrency(campaign, facts),
        callingWindow=_window_state(campaign, hours, zone_rows, now),
        blockedBy=blocked_by(facts),
    )


def _hours(campaign: models.Campaign) -> CallingHours | None:
    return CallingHours.from_config(campaign.calling_window) if campaign.calling_window else None


def _zones(row_zones: list[str] | None, hours: CallingHours) -> tuple[str, ...]:
    return tuple(row_zones or ()) or (hours.fallback_zone,)


def _facts(
    campaign: models.Campaign,
    counts: Any,
    held: list[Any],
    org: Any,
    hours: CallingHours | None,
    now: datetime,
) -> Facts:
    outside, retry, no_capacity, callable_soon = Held(), Held(), Held(), 0
    for row in held:
        stretch = next_callable(hours, _zones(row.time_zones, hours), now) if hours else None
        if hours is not None and (stretch is None or stretch[0] > now):
            outside = outside.add(row.calls, stretch[0] if stretch else None)
        elif row.gave_back and row.next_at is not None and row.next_at > now:
            no_capacity = no_capacity.add(row.calls, row.next_at)
        elif row.retry and row.next_at is not None and row.next_at > now:
            retry = retry.add(row.calls, row.next_at)
        else:  # inside its hours, its next stretch not computed yet: on the engine's next pass
            callable_soon += row.calls
    running = campaign.status == CampaignStatus.IN_PROGRESS
    return Facts(
        status=CampaignStatus(campaign.status),
        now=now,
        earliest_at=campaign.earliest_at,
        ended_reason=campaign.ended_reason,
        paused_at=campaign.paused_at if running else None,
        paused_by=campaign.paused_by if running else None,
        pause_reason=campaign.pause_reason if running else None,
        waiting=counts.waiting,
        callable=counts.callable + callable_soon,
        in_flight=counts.in_flight,
        max_concurrency=campaign.max_concurrency,
        org_limit=org.concurrency_limit,
        org_usage=[(str(i), name, int(busy)) for i, name, busy in (org.usage or [])],
        outside_hours=outside,
        retry_pending=retry,
        no_capacity=no_capacity,
    )


def _call_counts(counts: Any, facts: Facts) -> CallCounts:
    return CallCounts(
        total=counts.total,
        waiting=counts.waiting,
        callableNow=facts.callable,
        outsideCallingHours=facts.outside_hours.calls,
        retryPending=facts.retry_pending.calls,
        noCapacityRetry=facts.no_capacity.calls,
        dialing=counts.dialing,
        queued=counts.queued,
        inProgress=counts.in_progress,
        ended=counts.ended,
    )


def _concurrency(campaign: models.Campaign, facts: Facts) -> Concurrency:
    org_busy = sum(busy for _, _, busy in facts.org_usage)
    free = min(campaign.max_concurrency - facts.in_flight, facts.org_limit - org_busy)
    return Concurrency(
        maxConcurrency=campaign.max_concurrency,
        inFlight=facts.in_flight,
        orgLimit=facts.org_limit,
        orgInFlight=org_busy,
        available=max(0, free),
    )


async def _eta(
    session: AsyncSession,
    campaign: models.Campaign,
    facts: Facts,
    hours: CallingHours | None,
    zone_rows: list[Any],
    default_call_seconds: float,
) -> Eta:
    own = await stats.median_call_seconds(
        session, org_id=campaign.org_id, campaign_id=campaign.id, min_samples=5
    )
    org = None if own else await stats.median_call_seconds(session, org_id=campaign.org_id)
    seconds = own or org or default_call_seconds
    source = "campaign-median" if own else "org-median" if org else "default"
    finish = None
    if facts.status is CampaignStatus.IN_PROGRESS and facts.paused_at is None:
        start = max(facts.now, facts.earliest_at or facts.now)
        groups = (
            [(_zones(r.time_zones, hours), r.calls) for r in zone_rows]
            if hours
            else [((), facts.waiting)]
        )
        found = estimate(
            start=start,
            groups=groups,
            hours=hours,
            concurrency=max(1, min(campaign.max_concurrency, facts.org_limit)),
            call_seconds=seconds,
        )
        finish = found.finish_at
    return Eta(
        remainingCalls=facts.waiting,
        typicalCallSeconds=round(seconds, 1),
        typicalCallSource=source,
        estimatedFinishAt=finish,
    )


def _window_state(
    campaign: models.Campaign, hours: CallingHours | None, zone_rows: list[Any], now: datetime
) -> CallingWindowState | None:
    if hours is None or campaign.calling_window is None:
        return None
    zones = []
    for row in zone_rows:
        names = _zones(row.time_zones, hours)
        stretch = next_callable(hours, names, now)
        is_open = stretch is not None and stretch[0] == now
        zones.append(
            ZoneWindow(
                timeZones=list(names),
                waiting=row.calls,
                open=is_open,
                opensAt=None if is_open or stretch is None else stretch[0],
                closesAt=stretch[1] if is_open and stretch else None,
            )
        )
    return CallingWindowState(
        window=CallingWindow.model_validate(campaign.calling_window), zones=zones
    )
