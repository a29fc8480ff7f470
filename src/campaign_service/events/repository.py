"""The outbox's statements: claim due events for delivery, record how each attempt went, list
a campaign's recent deliveries, and the org's signing secret."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class DueEvent:
    id: int
    event_id: uuid.UUID
    campaign_id: uuid.UUID
    type: str
    payload: dict[str, Any]
    attempts: int  # including the one about to be made
    created_at: datetime
    server: dict[str, Any]
    secret: str


_CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM event_outbox
        WHERE state = 'pending' AND next_attempt_at <= :now
        ORDER BY next_attempt_at, id LIMIT :limit FOR UPDATE SKIP LOCKED
    )
    UPDATE event_outbox o SET next_attempt_at = :lease_until, attempts = o.attempts + 1
    FROM due, campaigns c, orgs g
    WHERE o.id = due.id AND c.id = o.campaign_id AND g.id = o.org_id
    RETURNING o.id, o.event_id, o.campaign_id, o.type, o.payload, o.attempts, o.created_at,
              c.extra_config -> 'server' AS server, g.webhook_secret AS secret
    """
)


async def claim_due(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[DueEvent]:
    """Take due events for delivery. The lease is the next attempt time: a worker that dies
    mid-delivery leaves them due again when it expires (delivered again, same event id)."""
    rows = await session.execute(_CLAIM, {"now": now, "lease_until": lease_until, "limit": limit})
    return sorted(
        (
            DueEvent(
                r.id,
                r.event_id,
                r.campaign_id,
                r.type,
                r.payload,
                r.attempts,
                r.created_at,
                r.server or {},
                r.secret,
            )
            for r in rows
        ),
        key=lambda e: e.id,
    )


@dataclass(frozen=True)
class Attempt:
    """How one delivery went: delivered, or failed and due again at `retry_at` (None: dead)."""

    id: int
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    retry_at: datetime | None = None


_RECORD = text(
    """
    WITH a AS (
        SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:delivered AS boolean[]),
                             CAST(:codes AS int[]), CAST(:errors AS text[]),
                             CAST(:retry_ats AS timestamptz[]))
                      AS a(id, delivered, code, error, retry_at)
    )
    UPDATE event_outbox o SET
        state = CASE WHEN a.delivered THEN 'delivered'
                     WHEN a.retry_at IS NULL THEN 'dead' ELSE 'pending' END,
        delivered_at = CASE WHEN a.delivered THEN CAST(:now AS timestamptz) END,
        next_attempt_at = CASE WHEN a.delivered THEN NULL ELSE a.retry_at END,
        last_status_code = a.code,
        last_error = a.error
    FROM a WHERE o.id = a.id AND o.state = 'pending'
    """
)


async def record_attempts(
    session: AsyncSession, attempts: Sequence[Attempt], *, now: datetime
) -> None:
    if not attempts:
        return
    await session.execute(
        _RECORD,
        {
            "ids": [a.id for a in attempts],
            "delivered": [a.delivered for a in attempts],
            "codes": [a.status_code for a in attempts],
            "errors": [a.error for a in attempts],
            "retry_ats": [a.retry_at for a in attempts],
            "now": now,
        },
    )


async def recent_deliveries(
    session: AsyncSession, *, campaign_id: uuid.UUID, limit: int, state: str | None
) -> list[Any]:
    """A campaign's newest events with how their delivery stands."""
    rows = await session.execute(
        text(
            """
            SELECT event_id, type, state, attempts, last_status_code, last_error,
                   next_attempt_at, delivered_at, created_at
            FROM event_outbox
            WHERE campaign_id = :c AND (CAST(:state AS text) IS NULL OR state = :state)
            ORDER BY id DESC LIMIT :limit
            """
        ),
        {"c": campaign_id, "limit": limit, "state": state},
    )
    return list(rows)


async def webhook_secret(
    session: AsyncSession, *, org_id: uuid.UUID, rotate: bool = False
) -> str | None:
    """The org's signing secret; with `rotate`, a new one replaces it first."""
    if rotate:
        await session.execute(
            text(
                "UPDATE orgs SET webhook_secret = 'whsec_' || replace(gen_random_uuid()::text"
                " || gen_random_uuid()::text, '-', '') WHERE id = :org"
            ),
            {"org": org_id},
        )
    row = await session.execute(
        text("SELECT webhook_secret FROM orgs WHERE id = :org"), {"org": org_id}
    )
    return row.scalar_one_or_none()
