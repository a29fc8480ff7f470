"""Ending many unplaced calls at once (user cancellation, closed capacity window).

These are the engine's own decisions, not provider reports, and can touch 10,000 calls, so they
run as one set-based statement. They keep the call_events rule: one event row per call changed,
in the same statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import require_known

# Unplaced: never handed to the provider and not being dialed right now (no lease).
_END_UNPLACED = text(
    """
    WITH ended AS (
        UPDATE calls SET status = 'ended', ended_reason = :reason, ended_at = :now,
                         next_attempt_at = NULL, updated_at = :now
        WHERE campaign_id = ANY(:campaigns) AND status = 'scheduled'
          AND lease_expires_at IS NULL
        RETURNING id, campaign_id
    )
    INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                             source, created_at)
    SELECT id, campaign_id, 'scheduled', 'ended', :reason, :source, :now FROM ended
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
    """End every unplaced call of these campaigns; returns how many were ended."""
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
