"""Read queries behind the campaign export: the campaign, its variable names, and its contacts
streamed in dial order from a server-side cursor (memory stays flat whatever the audience)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from campaign_service.calls.ended_reasons import CANCELLED_BEFORE_PLACED, CAPACITY_WINDOW_CLOSED

# A contact ended, never dialed, because its number was on the do-not-call list (the reason the
# dispatcher records for it; see the README's "Do-not-call" section).
DO_NOT_CALL_ENDED_REASON = "manually-canceled"
SKIPPED_REASONS = (CANCELLED_BEFORE_PLACED, CAPACITY_WINDOW_CLOSED, DO_NOT_CALL_ENDED_REASON)

# The v2 contact status of a call row (same rules as GET /v2/campaign/{id}/contacts).
_OUTCOME = f"""
    CASE
      WHEN k.status = 'scheduled' AND k.lease_expires_at IS NULL THEN 'contact.pending'
      WHEN k.status <> 'ended' THEN 'contact.dispatched'
      WHEN k.started_at IS NOT NULL THEN 'contact.completed'
      WHEN k.ended_reason IN ({", ".join(f"'{r}'" for r in SKIPPED_REASONS)})
        THEN 'contact.skipped'
      ELSE 'contact.failed'
    END"""

_CAMPAIGN = text(
    "SELECT id, name FROM campaigns WHERE id = :campaign AND org_id = :org AND archived_at IS NULL"
)

_VARIABLES = text(
    """
    SELECT v.name
    FROM calls k
    CROSS JOIN LATERAL jsonb_object_keys(
        CASE WHEN jsonb_typeof(k.customer #> '{assistantOverrides,variableValues}') = 'object'
             THEN k.customer #> '{assistantOverrides,variableValues}' ELSE '{}'::jsonb END
    ) AS v(name)
    WHERE k.campaign_id = :campaign
    GROUP BY v.name
    ORDER BY min(k.position), v.name
    """
)

_CONTACTS = text(
    f"""
    SELECT k.id, k.position, k.customer, k.ended_reason, k.attempts, k.started_at, k.ended_at,
           {_OUTCOME} AS outcome
    FROM calls k
    WHERE k.campaign_id = :campaign
    ORDER BY k.position
    """
)


@dataclass(frozen=True)
class ExportedCampaign:
    id: uuid.UUID
    name: str


async def find_campaign(
    session: AsyncSession, *, org_id: uuid.UUID, campaign_id: uuid.UUID
) -> ExportedCampaign | None:
    row = (await session.execute(_CAMPAIGN, {"campaign": campaign_id, "org": org_id})).first()
    return ExportedCampaign(row.id, row.name) if row is not None else None


async def variable_names(session: AsyncSession, *, campaign_id: uuid.UUID) -> list[str]:
    """Every variable name of the audience, in the order contacts first use them (names the
    same contact introduces are sorted: PostgreSQL keeps no key order in JSON objects)."""
    result = await session.execute(_VARIABLES, {"campaign": campaign_id})
    return list(result.scalars())


async def contact_chunks(
    session: AsyncSession, *, campaign_id: uuid.UUID, chunk: int
) -> AsyncIterator[Sequence[Any]]:
    """The contacts in dial order, `chunk` rows at a time, from one server-side cursor."""
    result = await session.stream(
        _CONTACTS.execution_options(yield_per=chunk), {"campaign": campaign_id}
    )
    async for rows in result.partitions(chunk):
        yield rows
