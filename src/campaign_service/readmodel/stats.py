"""Counts for the /metrics gauges, bounded by the work in progress rather than the history.

Campaigns are counted by status (archived ones excluded). Calls are counted only where they
are live: every call that has not ended, plus the ended calls of campaigns still running. The
ended calls of ended campaigns are history; counting them would make every scrape scan every
call ever made (the engine's `campaign_calls_ended_total` counter covers their rate).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from campaign_service.calls.status import CallStatus
from campaign_service.campaigns.state import CampaignStatus
from campaign_service.db import predicates as p

_CAMPAIGNS = text(
    "SELECT status, count(*) AS n FROM campaigns WHERE archived_at IS NULL GROUP BY status"
)

_CALLS = text(
    f"""
    SELECT k.status, count(*) AS n FROM calls k JOIN campaigns c ON c.id = k.campaign_id
    WHERE {p.is_open("k")} AND c.archived_at IS NULL
    GROUP BY k.status
    UNION ALL
    -- Per live campaign (LATERAL), so each count walks that campaign's (campaign_id, status)
    -- index entries instead of every ended call.
    SELECT '{CallStatus.ENDED.value}', coalesce(sum(ended.n), 0) FROM campaigns c
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM calls k
        WHERE k.campaign_id = c.id AND {p.status_is("k.status", CallStatus.ENDED)}
    ) ended
    WHERE c.status <> '{CampaignStatus.ENDED.value}' AND c.archived_at IS NULL
    """
)


async def status_counts(conn: AsyncConnection) -> tuple[dict[str, int], dict[str, int]]:
    """(campaigns by status, live calls by status)."""
    campaigns = {r.status: int(r.n) for r in await conn.execute(_CAMPAIGNS)}
    calls = {r.status: int(r.n) for r in await conn.execute(_CALLS)}
    return campaigns, calls
