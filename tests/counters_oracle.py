"""The v2 counters counted from the calls themselves, contact by contact, as a person would:
the oracle the stored counters (campaign_counts, kept by triggers) are checked against."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

KEYS = ("pending", "dispatched", "completed", "failed", "skipped", "predial_failed")

# One row per contact: its latest attempt `k`, and whether any attempt was placed or talked.
_CONTACTS = text(
    """
    WITH attempt AS (
        SELECT k.*, k.ended_reason IS DISTINCT FROM 'voicemail'
                    AND (k.status IN ('in-progress', 'forwarding')
                         OR k.status = 'ended' AND EXISTS (
                             SELECT 1 FROM call_events e WHERE e.call_id = k.id
                             AND e.to_status IN ('in-progress', 'forwarding'))) AS talked
        FROM calls k WHERE k.campaign_id = ANY(:ids)
    )
    SELECT k.campaign_id,
           CASE
             WHEN k.status = 'scheduled' AND k.lease_expires_at IS NULL THEN 'pending'
             WHEN k.status <> 'ended' THEN 'dispatched'
             WHEN k.skip_reason = 'predial-failed' THEN 'predial_failed'
             WHEN k.skip_reason IS NOT NULL THEN 'skipped'
             WHEN k.started_at IS NOT NULL THEN 'completed'
             WHEN k.ended_reason IN ('scheduled-call-deleted',
                   'call.start.error-subscription-concurrency-limit-reached') THEN 'skipped'
             ELSE 'failed'
           END AS status,
           (SELECT bool_or(a.started_at IS NOT NULL) FROM attempt a
            WHERE a.campaign_id = k.campaign_id AND a.position = k.position) AS dialed,
           (SELECT bool_or(a.talked) FROM attempt a
            WHERE a.campaign_id = k.campaign_id AND a.position = k.position) AS connected
    FROM attempt k
    WHERE NOT EXISTS (SELECT 1 FROM attempt a WHERE a.campaign_id = k.campaign_id
                      AND a.position = k.position AND a.attempt_number > k.attempt_number)
    """
)

_STORED = text(
    "SELECT campaign_id, "
    + ", ".join(f"sum({k})::integer AS {k}" for k in (*KEYS, "dialed", "connected"))
    + " FROM campaign_counts WHERE campaign_id = ANY(:ids) GROUP BY campaign_id"
)


async def recount(
    conn: AsyncConnection | AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Each campaign's counters, counted from its calls."""
    out = {i: dict.fromkeys((*KEYS, "dialed", "connected"), 0) for i in ids}
    for row in await conn.execute(_CONTACTS, {"ids": ids}):
        counters = out[row.campaign_id]
        counters[row.status] += 1
        counters["dialed"] += int(row.dialed)
        counters["connected"] += int(row.connected)
    return out


async def stored(
    conn: AsyncConnection | AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Each campaign's counters as campaign_counts keeps them."""
    out = {i: dict.fromkeys((*KEYS, "dialed", "connected"), 0) for i in ids}
    for row in await conn.execute(_STORED, {"ids": ids}):
        out[row.campaign_id] = {k: getattr(row, k) for k in (*KEYS, "dialed", "connected")}
    return out


async def assert_counters_hold(conn: AsyncConnection | AsyncSession) -> dict[str, Any]:
    """The stored counters of every campaign equal a recount from its calls."""
    ids = list((await conn.execute(text("SELECT id FROM campaigns"))).scalars())
    expected, kept = await recount(conn, ids), await stored(conn, ids)
    wrong = {i: (kept[i], expected[i]) for i in ids if kept[i] != expected[i]}
    assert not wrong, f"stored counters differ from a recount (stored, recount): {wrong}"
    return {"campaigns": len(ids)}
