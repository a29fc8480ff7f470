"""The one code path that changes a call's status, for every provider and every source.

`apply_call_events` (and its one-event form `apply_call_event`) moves calls only forward and
writes the append-only call_events row in the same statement, so a duplicate or out-of-order
event is a harmless no-op. Batches are applied set-based: one statement per round of events.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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
    WITH event AS (
        SELECT * FROM unnest(CAST(:call_ids AS uuid[]), CAST(:statuses AS text[]),
                             CAST(:reasons AS text[]), CAST(:ats AS timestamptz[]),
                             CAST(:provider_call_ids AS text[]))
                      AS e(call_id, status, reason, at, provider_call_id)
    ), current AS (
        -- Lock in ID order so two batches touching the same calls cannot deadlock.
        SELECT c.id, c.status FROM calls c JOIN event ON event.call_id = c.id
        ORDER BY c.id FOR UPDATE OF c
    ), changed AS (
        UPDATE calls AS c SET
            status = event.status,
            ended_reason = CASE WHEN event.status = 'ended' THEN event.reason
                                ELSE c.ended_reason END,
            ended_at = CASE WHEN event.status = 'ended' THEN event.at ELSE c.ended_at END,
            started_at = CASE WHEN event.status = 'ended' AND c.status = 'scheduled'
                              THEN c.started_at ELSE COALESCE(c.started_at, event.at) END,
            provider_call_id = COALESCE(event.provider_call_id, c.provider_call_id),
            lease_owner = NULL,
            lease_expires_at = NULL,
            next_attempt_at = NULL,
            updated_at = :now
        FROM event, current
        WHERE c.id = event.call_id AND current.id = c.id
          AND array_position({_ORDER_SQL}, current.status::text)
              < array_position({_ORDER_SQL}, event.status)
        RETURNING c.id, c.campaign_id, c.org_id, current.status AS from_status,
                  event.status AS to_status, event.reason
    ), logged AS (
        INSERT INTO call_events (call_id, campaign_id, from_status, to_status, ended_reason,
                                 source, created_at)
        SELECT id, campaign_id, from_status, to_status, reason, :source, :now FROM changed
    )
    SELECT id, campaign_id, org_id, from_status, to_status FROM changed
    """
)


def _rounds(events: Sequence[CallEvent]) -> list[list[CallEvent]]:
    """Split events so each round has at most one event per call, keeping each call's order."""
    rounds: list[list[CallEvent]] = []
    seen: dict[uuid.UUID, int] = {}
    for event in events:
        index = seen.get(event.call_id, 0)
        seen[event.call_id] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(event)
    return rounds


async def apply_call_events(
    session: AsyncSession, events: Sequence[CallEvent], *, source: str, now: datetime
) -> list[AppliedEvent]:
    """Apply events in order (set-based); returns the changes made. Events that would not move
    a call forward, repeat an earlier one, or name an unknown call change nothing."""
    applied: list[AppliedEvent] = []
    for batch in _rounds(events):
        result = await session.execute(
            _APPLY,
            {
                "call_ids": [e.call_id for e in batch],
                "statuses": [e.status.value for e in batch],
                "reasons": [e.ended_reason for e in batch],
                "ats": [e.occurred_at or now for e in batch],
                "provider_call_ids": [e.provider_call_id for e in batch],
                "source": source,
                "now": now,
            },
        )
        applied.extend(
            AppliedEvent(
                call_id=row.id,
                campaign_id=row.campaign_id,
                org_id=row.org_id,
                from_status=CallStatus(row.from_status),
                to_status=CallStatus(row.to_status),
            )
            for row in result
        )
    # Each ended call frees a slot: wake the dispatchers (delivered at commit, once per org).
    for org_id in {a.org_id for a in applied if a.to_status is CallStatus.ENDED}:
        await notify_dispatchers(session, org_id)
    return applied


async def apply_call_event(
    session: AsyncSession, event: CallEvent, *, source: str, now: datetime
) -> AppliedEvent | None:
    """Apply one event; returns what changed, or None for a duplicate/late/unknown event."""
    applied = await apply_call_events(session, [event], source=source, now=now)
    return applied[0] if applied else None


async def notify_dispatchers(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Wake dispatchers when this transaction commits (new work or freed capacity)."""
    await session.execute(
        text("SELECT pg_notify(:channel, :org)"), {"channel": DISPATCH_CHANNEL, "org": str(org_id)}
    )
