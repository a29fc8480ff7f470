"""Read queries of the campaign export: the campaign, its variable names, and its contacts
streamed in dial order from a server-side cursor (memory stays flat whatever the audience)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The v2 contact status of a call row: the same rules as GET /v2/campaign/{id}/contacts.
from campaign_service.readmodel.contacts import CONTACT_STATUS_SQL

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
    SELECT k.id, k.position, k.customer, k.ended_reason, k.skip_reason, k.attempts,
           k.started_at, k.ended_at,
           {CONTACT_STATUS_SQL} AS outcome
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
