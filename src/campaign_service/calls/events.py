"""The one code path that changes a call's status, for every provider and every source.

`apply_call_event` locks nothing it does not change, moves the call only forward, and writes
the append-only call_events row in the same statement, so a duplicate or out-of-order event
is a harmless no-op.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import require_known
from campaign_service.calls.schemas import CallStatus
from campaign_service.calls.state import ORDER

DISPATCH_CHANNEL = "campaign_service_dispatch"
_ORDER_SQL = "ARRAY[" + ", ".join(f"'{s.value}'" for s in ORDER) + "]::text[]"


@dataclass(frozen=True)
class CallEvent:
    """A status report about one call, from a provider (or from the engine itself)."""

    call_id: uuid.UUID
    status: CallStatus
    ended_reason: str | None = None
    provider_call_id: str | None = None
    occurred_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status is CallStatus.ENDED:
            if self.ended_reason is None:
                raise ValueError("an ended event needs an endedReason")
            require_known(self.ended_reason)
        elif self.ended_reason is not None:
            raise ValueError("only an ended event carries an endedReason")
        if self.status is CallStatus.SCHEDULED:
            raise ValueError("no event moves a call back to scheduled")


@dataclass(frozen=True)
class AppliedEvent:
    call_id: uuid.UUID
    campaign_id: uuid.UUID
    org_id: uuid.UUID
    from_status: CallStatus
    to_status: CallStatus


_APPLY = text(
    f"""
    WITH current AS (
        SELECT id, status FROM calls WHERE id = :call_id FOR UPDATE
    ), changed AS (
        UPDATE calls AS c SET
            status = :status,
            ended_reason = CASE WHEN :status = 'ended' THEN :reason ELSE c.ended_reason END,
            ended_at = CASE WHEN :status = 'ended' THEN :at ELSE c.ended_at END,
            started_at = CASE WHEN :status = 'ended' AND c.status = 'scheduled'
                              THEN c.started_at ELSE COALESCE(c.started_at, :at) END,
            provider_call_id = COALESCE(:provider_call_id, c.provider_call_id),
            lease_owner = NULL,
            lease_expires_at = NULL,
            next_attempt_at = NULL,
            updated_at = :now
        FROM current
        WHERE c.id = current.id
          AND array_position({_ORDER_SQL}, current.status::text)
              < array_position({_ORDER_SQL}, CAST(:status AS text))
        RETURNING c.id, c.campaign_id, c.org_id, current.status AS from_status
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, from_status, :status, :reason, :source, :now FROM changed
    )
    SELECT id, campaign_id, org_id, from_status FROM changed
    """
)


async def apply_call_event(
    session: AsyncSession, event: CallEvent, *, source: str, now: datetime
) -> AppliedEvent | None:
    """Apply one event; returns what changed, or None for a duplicate/late/unknown event."""
    row = (
        await session.execute(
            _APPLY,
            {
                "call_id": event.call_id,
                "status": event.status.value,
                "reason": event.ended_reason,
                "at": event.occurred_at or now,
                "provider_call_id": event.provider_call_id,
                "source": source,
                "now": now,
            },
        )
    ).one_or_none()
    if row is None:
        return None
    if event.status is CallStatus.ENDED:
        # A slot is free: wake the dispatchers (delivered when this transaction commits).
        await session.execute(
            text("SELECT pg_notify(:channel, :org)"),
            {"channel": DISPATCH_CHANNEL, "org": str(row.org_id)},
        )
    return AppliedEvent(
        call_id=row.id,
        campaign_id=row.campaign_id,
        org_id=row.org_id,
        from_status=CallStatus(row.from_status),
        to_status=event.status,
    )


async def notify_dispatchers(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Wake dispatchers when this transaction commits (new work or freed capacity)."""
    await session.execute(
        text("SELECT pg_notify(:channel, :org)"), {"channel": DISPATCH_CHANNEL, "org": str(org_id)}
    )
