"""Reads of recent call outcomes: the breaker's failure share and the typical call length
that estimates use. (Every write to `calls` is in `calls.repository`.)"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED, CAPACITY_WINDOW_CLOSED
from campaign_service.calls.status import CallStatus
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.db import predicates as p

RUNNING = CampaignStatus.IN_PROGRESS.value

# An attempt that reached the provider or was refused by it; not one this service ended
# before its dial (cancelled, never got a slot, screened out).
ATTEMPTED = f"""
    {p.status_is("k.status", CallStatus.ENDED)} AND k.skip_reason IS NULL
    AND NOT (k.started_at IS NULL AND k.ended_reason IN (:cancelled, :no_slot))"""


@dataclass(frozen=True)
class FailureShare:
    campaign_id: uuid.UUID
    attempts: int
    failed: int
    most_common: str


async def failing_campaigns(
    session: AsyncSession,
    *,
    since: datetime,
    failures: Collection[str],
    min_attempts: int,
    share: float,
) -> list[FailureShare]:
    """Running, unpaused campaigns whose attempts that ended after `since` (and after their
    start and last resume) are at least `min_attempts`, of which at least `share` failed."""
    rows = await session.execute(
        text(
            f"""
            SELECT c.id, count(*) AS attempts,
                   count(*) FILTER (WHERE k.ended_reason = ANY(:failures)) AS failed,
                   mode() WITHIN GROUP (ORDER BY k.ended_reason)
                       FILTER (WHERE k.ended_reason = ANY(:failures)) AS most_common
            FROM campaigns c JOIN calls k ON k.campaign_id = c.id
            WHERE c.status = '{RUNNING}' AND c.paused_at IS NULL AND {ATTEMPTED}
              AND k.ended_at >= GREATEST(:since, c.started_at)
              AND (c.resumed_at IS NULL OR k.ended_at > c.resumed_at)
            GROUP BY c.id
            HAVING count(*) >= :min_attempts
               AND count(*) FILTER (WHERE k.ended_reason = ANY(:failures))
                   >= CAST(:share AS float8) * count(*)
            """
        ),
        {
            "since": since,
            "failures": sorted(failures),
            "min_attempts": min_attempts,
            "share": share,
            "cancelled": CANCELLED_BEFORE_PLACED,
            "no_slot": CAPACITY_WINDOW_CLOSED,
        },
    )
    return [FailureShare(r.id, r.attempts, r.failed, r.most_common) for r in rows]


_MEDIAN = f"""
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median, count(*) AS n
    FROM (SELECT extract(epoch FROM k.ended_at - k.started_at) AS seconds
          FROM calls k WHERE k.campaign_id = ANY(:campaigns)
            AND {p.status_is("k.status", CallStatus.ENDED)} AND k.started_at IS NOT NULL
          LIMIT :sample) placed
"""


async def median_call_seconds(
    session: AsyncSession,
    *,
    org_id: uuid.UUID,
    campaign_id: uuid.UUID | None = None,
    min_samples: int = 20,
    sample: int = 2000,
) -> float | None:
    """The median length of placed calls that ended: of this campaign if given, else of the
    org's three most recently started campaigns (a bounded sample, so it stays cheap);
    None with fewer than `min_samples` calls."""
    if campaign_id is not None:
        campaigns = [campaign_id]
    else:
        found = await session.execute(
            text(
                """
                SELECT id FROM campaigns WHERE org_id = :org AND started_at IS NOT NULL
                ORDER BY started_at DESC LIMIT 3
                """
            ),
            {"org": org_id},
        )
        campaigns = list(found.scalars())
    if not campaigns:
        return None
    row = (await session.execute(text(_MEDIAN), {"campaigns": campaigns, "sample": sample})).one()
    return float(row.median) if row.n >= min_samples and row.median is not None else None
